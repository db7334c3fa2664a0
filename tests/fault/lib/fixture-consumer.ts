/**
 * A consumer process for the fault scenarios, built on `@flotilla/streams` `createConsumer`. Each handled
 * event is recorded on the ledger Redis by one script: a handler call (`HINCRBY calls`) and, only the
 * first time an event id is seen, its effect (`HSETNX applied` + `INCR effects`). So duplicate handler
 * calls and duplicate effects are counted separately. The consumer's `status()` is written to the ledger
 * every 100 ms (and on exit) so the parent can read counters such as `zombieAcksRefused`.
 * Configured by the FAULT_CONSUMER environment variable (JSON, see `FixtureConfig`).
 * Poison types: `fault.poison.throw` always throws; `fault.poison.exit` exits the process mid-batch.
 */
import { onShutdown } from '@flotilla/service-kit'
import { createConsumer, createRedisConnection } from '@flotilla/streams'
import { type FixtureConfig, ledgerKeys, RECORD_EFFECT } from './ledger.ts'

const config = JSON.parse(process.env.FAULT_CONSUMER ?? '{}') as FixtureConfig
const keys = ledgerKeys(config.run)
const ledger = createRedisConnection(config.ledgerUrl, 'command')
const log = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const consumer = createConsumer({
  redisUrl: { url: config.brokerUrl, cluster: config.brokerCluster === true },
  stream: config.stream,
  group: config.group,
  ...(config.consumerName ? { consumerName: config.consumerName } : {}),
  blockMs: config.blockMs ?? 200,
  claimIdleMs: config.claimIdleMs ?? 500,
  maxDeliveries: config.maxDeliveries ?? 5,
  batchSize: config.batchSize ?? 100,
  concurrency: config.concurrency ?? 16,
  backoff: { baseMs: 50, maxMs: 200 },
  closeTimeoutMs: config.closeTimeoutMs ?? 5000,
  ...(config.handlerTimeoutMs ? { handlerTimeoutMs: config.handlerTimeoutMs } : {}),
  handler: {
    async handle(m) {
      if (m.event.type === 'fault.poison.exit') process.exit(3)
      if (m.event.type === 'fault.poison.throw') throw new Error('this handler always throws')
      // A payload can only pollute through a merge; check the global prototype after every event.
      if (({} as Record<string, unknown>).polluted !== undefined) await ledger.set(keys.polluted, m.event.id)
      if (config.slowMs) await sleep(config.slowMs)
      await ledger.eval(RECORD_EFFECT, 3, keys.calls, keys.applied, keys.effects, m.event.id, m.streamId)
    },
  },
})

const writeStatus = () =>
  ledger
    .hset(keys.status, consumer.name, JSON.stringify({ ...consumer.status(), pid: process.pid }))
    .catch(() => 0)

await consumer.start()
log({ ready: true, name: consumer.name, pid: process.pid })
const timer = setInterval(writeStatus, 100)

onShutdown(
  async () => {
    clearInterval(timer)
    await consumer.close()
    await writeStatus()
    await ledger.quit().catch(() => {})
  },
  {
    logger: { info: () => {}, error: (o: unknown) => log({ error: String(o) }) },
    timeoutMs: config.closeTimeoutMs ?? 5000,
  },
)
