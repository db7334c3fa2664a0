/** `bun run demo` — plays the monolith: registrations, logins (sessions at auth), new devices, orders, and more. */
import { parseArgs } from 'node:util'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET } from '@flotilla/service-kit'
import { closeConnection, createPublisher, createRedisConnection } from '@flotilla/streams'
import { initTelemetry, injectTraceparent, inSpan, traceHeaders } from '@flotilla/telemetry'
import { APPS, appUrl } from './lib/apps.ts'
import { DEMO_TEMPLATE, type DemoStep, planDemo } from './lib/demo-plan.ts'
import { HOW_TO_GET_REDIS, redisAnswers } from './lib/redis-local.ts'
import { bold, dim, green, parseDuration, progressBar, red, table, yellow } from './lib/term.ts'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '40' },
    hours: { type: 'string', default: '24' },
    seed: { type: 'string' },
    live: { type: 'boolean', default: false },
    rate: { type: 'string', default: '2' },
    duration: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: bun run demo [--users 40] [--hours 24] [--seed N]
       bun run demo --live [--rate 2] [--duration 5m]     (journeys per second, now, until Ctrl-C or --duration)

  Publishes what a monolith would, spread over the past --hours: registrations (welcome emails follow), password resets, logins
  (sessions created at auth over HTTP when it runs, so auth publishes its own new-device events), failed logins,
  password changes, deletions, and custom domain events (order.placed, order.shipped, cart.abandoned).`)
  process.exit(0)
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const STREAM = process.env.EVENTS_STREAM ?? 'events'
const users = Number(values.users)
const hours = Number(values.hours)
if (!Number.isInteger(users) || users < 1 || !(hours > 0)) {
  console.error(red('--users must be a positive integer and --hours a positive number'))
  process.exit(2)
}
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
const rate = Number(values.rate)
const durationMs = values.duration ? parseDuration(values.duration) : Number.POSITIVE_INFINITY
if (values.live && (!(rate > 0) || rate > 1000 || durationMs === undefined)) {
  console.error(red('--rate must be 0 < rate ≤ 1000 journeys per second, --duration a duration such as 30s'))
  process.exit(2)
}

if (!(await redisAnswers(REDIS_URL))) {
  console.error(
    red(`✗ nothing answers at REDIS_URL=${REDIS_URL}. Run ${bold('bun run start')} first, or get a Redis:`),
  )
  console.error(HOW_TO_GET_REDIS)
  process.exit(1)
}

const telemetry = initTelemetry({ service: 'monolith', endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT })
const redis = createRedisConnection(REDIS_URL, 'producer')
const publisher = createPublisher({ redis, stream: STREAM })

const authUrl = appUrl(APPS.find((a) => a.name === 'auth')!, process.env)
const authUp = await fetch(`${authUrl}/health`, { signal: AbortSignal.timeout(1500) })
  .then((r) => r.ok)
  .catch(() => false)
const signer = createServiceTokenSigner(
  parseKeyRing(process.env.SERVICE_TOKEN_SECRET ?? DEV_SERVICE_TOKEN_SECRET),
  'monolith',
)

const steps = values.live ? [] : planDemo({ users, hours, seed })
console.log(
  values.live
    ? `${bold('demo --live')}: ${rate} journeys/s on stream ${bold(STREAM)}, until ${values.duration ? `${values.duration} have passed` : 'Ctrl-C'}`
    : `${bold('demo')}: ${users} users over the last ${hours} h → ${steps.length} steps on stream ${bold(STREAM)} ${dim(`(seed ${seed})`)}`,
)
console.log(
  authUp
    ? `${green('✓')} auth at ${authUrl}: logins start real sessions (auth publishes auth.session.created / auth.device.added)`
    : `${yellow('!')} auth not reachable at ${authUrl}: logins publish auth.device.added directly instead of creating sessions`,
)

const published = new Map<string, number>()
let sessions = 0
let sessionFailures = 0
let lastError = ''
const count = (type: string) => published.set(type, (published.get(type) ?? 0) + 1)

/** Runs one step inside a span, so with an OTLP endpoint each shows as monolith → stream → consumers. */
const runStep = (step: DemoStep): Promise<void> =>
  inSpan(step.kind === 'event' ? `publish ${step.event.type}` : 'POST auth /v1/sessions', async () => {
    if (step.kind === 'event' || !authUp) {
      const event = step.kind === 'event' ? step.event : step.fallback
      await publisher.publish(injectTraceparent(event))
      count(event.type)
      return
    }
    const token = await signer.sign({ audience: 'auth' })
    const response = await fetch(`${authUrl}/v1/sessions`, {
      method: 'POST',
      headers: traceHeaders({ authorization: `Bearer ${token}`, 'content-type': 'application/json' }),
      body: JSON.stringify({
        userId: step.userId,
        tenantId: step.tenantId,
        scopes: ['profile'],
        device: step.device,
      }),
      signal: AbortSignal.timeout(5000),
    })
    if (response.ok) sessions++
    else {
      sessionFailures++
      lastError = `${response.status} ${(await response.text()).slice(0, 200)}`
    }
  })

const started = performance.now()
const tty = process.stdout.isTTY === true
if (values.live) {
  // Journeys happen now, one every 1/rate seconds, so dashboards and `bun run ops watch` move.
  let stop = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stop = true))
  const endAt = Date.now() + (durationMs ?? 0)
  let journeys = 0
  while (!stop && Date.now() < endAt) {
    const tick = performance.now()
    for (const step of planDemo({ users: 1, hours: 0.01, seed: seed + journeys })) await runStep(step)
    journeys++
    const events = [...published.values()].reduce((a, b) => a + b, 0)
    const line = `${journeys} journeys, ${events} events${authUp ? `, ${sessions} sessions` : ''}`
    if (tty) process.stdout.write(`\r${line}`)
    else if (journeys % 10 === 0) console.log(line)
    await Bun.sleep(Math.max(0, 1000 / rate - (performance.now() - tick)))
  }
} else {
  for (const [i, step] of steps.entries()) {
    await runStep(step)
    const done = i + 1
    if (tty && (done % 5 === 0 || done === steps.length))
      process.stdout.write(`\r${progressBar(done, steps.length)}`)
    else if (!tty && (done % 100 === 0 || done === steps.length)) console.log(progressBar(done, steps.length))
  }
}
if (tty) process.stdout.write('\n')
const seconds = (performance.now() - started) / 1000

console.log('')
console.log(
  table(
    ['event type', 'published'],
    [...published.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => [type, n]),
  ),
)
const total = [...published.values()].reduce((a, b) => a + b, 0)
console.log(
  `\n${green('✓')} ${total} events in ${seconds.toFixed(1)} s${authUp ? `, ${sessions} sessions started at auth` : ''}`,
)
if (sessionFailures > 0) console.log(red(`✗ ${sessionFailures} session calls failed; last: ${lastError}`))
const page = (app: string, path: string) => `${appUrl(APPS.find((a) => a.name === app)!, process.env)}${path}`
console.log(`
  see it: dashboard     ${bold(page('analytics', '/dashboard'))}
          email outbox  ${bold('bun run ops outbox')} ${dim(`(welcome and ${DEMO_TEMPLATE} emails)`)}
          audit log     ${bold(page('audit', '/swagger'))}
          groups        ${bold('bun run ops status')}`)

// Bounded: an unreachable collector must not hold the terminal.
await Promise.race([telemetry.close(), Bun.sleep(5000)])
await closeConnection(redis)
process.exit(sessionFailures > 0 ? 1 : 0)
