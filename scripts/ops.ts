/** `bun run ops …` — stream and group status, dead letters (list, show, replay, purge), safe trim, libSQL → PostgreSQL. */
import { parseArgs } from 'node:util'
import { closeConnection, createRedisConnection, onClient } from '@flotilla/streams'
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  dlqList,
  dlqPurge,
  dlqReplay,
  dlqShow,
  OpsError,
  parseTokenTtl,
  status,
  trim,
} from './lib/ops-commands.ts'
import { OpsHttpError, outbox, printToken } from './lib/ops-http.ts'
import { dim, parseDuration, red } from './lib/term.ts'

const USAGE = `usage: bun run ops [--stream NAME] [--redis URL] [--cluster] [--json] <command>

  status                               the stream, each group (lag, pending, consumers, dead letters), each consumer
  watch [--interval 2s] [--count N]    status, redrawn every interval until Ctrl-C
  dlq list <group> [--limit N] [--cursor ID] [--oldest]
  dlq show <group> <id>                one dead letter: the error, the deliveries, the event as it was
  dlq replay <group> <id> | --all      back onto the stream for that group only      (asks unless --yes)
  dlq purge <group> <id> | --all       delete for good                                 (asks unless --yes)
  trim --retention 7d                  MINID trim, never past a pending or undelivered entry (asks unless --yes)
  outbox [--limit 20] [--channel email] what notifications stored instead of sending (no provider configured)
  db copy --app <analytics|audit|notifications> --from file:… --to postgres://… [--batch 1000]
                                       moves an app's libSQL store to PostgreSQL (idempotent; stop its writers
                                       first); checks every table's row count, and for audit every chain
  token <app> [--ttl ${DEFAULT_TOKEN_TTL_SECONDS}]              a service token for that app (paste into its Swagger UI: Authorize);
                                       ${DEFAULT_TOKEN_TTL_SECONDS} s is the longest lifetime the apps accept

  --stream  defaults to $EVENTS_STREAM, else "events"; --redis defaults to $REDIS_URL, else redis://127.0.0.1:6379
  --cluster (or REDIS_CLUSTER=true): --redis names one or more Redis Cluster nodes, comma-separated
  apps are found at $<APP>_URL, else 127.0.0.1:<port>; tokens are signed with $SERVICE_TOKEN_SECRET (dev default)`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stream: { type: 'string' },
    redis: { type: 'string' },
    json: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    all: { type: 'boolean', default: false },
    oldest: { type: 'boolean', default: false },
    limit: { type: 'string', default: '20' },
    cursor: { type: 'string' },
    retention: { type: 'string' },
    channel: { type: 'string' },
    ttl: { type: 'string' },
    interval: { type: 'string', default: '2s' },
    app: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    batch: { type: 'string' },
    count: { type: 'string' },
    cluster: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

const [command, sub, group, id] = positionals
if (values.help || !command) {
  console.log(USAGE)
  process.exit(values.help ? 0 : 2)
}

const redisUrl = values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const cluster = values.cluster || process.env.REDIS_CLUSTER === 'true'
// A CLI does one thing and exits: no reconnect loop, and connection errors surface through the command.
const redis = createRedisConnection({ url: redisUrl, cluster }, 'command', {
  maxRetriesPerRequest: 1,
  lazyConnect: true,
  retryStrategy: () => null,
})
onClient(redis, 'error', () => {})
const ctx = {
  redis,
  stream: values.stream ?? process.env.EVENTS_STREAM ?? 'events',
  json: values.json,
  yes: values.yes,
}

const needGroup = (): string => {
  if (!group) throw new OpsError(`which group? ${USAGE.split('\n')[0]}`)
  return group
}
const target = () => {
  if (!values.all && !id) throw new OpsError('give a dead-letter id, or --all')
  return { id, all: values.all }
}

const run = async (): Promise<void> => {
  if (command === 'outbox') {
    const limit = Number(values.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new OpsError('--limit must be 1..100')
    return outbox(process.env, { limit, channel: values.channel, json: values.json })
  }
  if (command === 'db' && sub === 'copy') {
    // Loaded only here: it pulls in the three apps' stores, which no other command needs.
    const { dbCopy } = await import('./lib/db-copy.ts')
    return dbCopy({
      app: values.app,
      from: values.from,
      to: values.to,
      batch: values.batch,
      json: values.json,
    })
  }
  if (command === 'token') {
    if (!sub) throw new OpsError('token <app>: which app is the token for?')
    return printToken(process.env, sub, parseTokenTtl(values.ttl))
  }
  await redis.connect().catch((error: Error) => {
    throw new OpsError(`cannot reach Redis at ${redisUrl}: ${error.message}`)
  })
  if (command === 'status') return status(ctx)
  if (command === 'watch') {
    const intervalMs = parseDuration(values.interval)
    if (intervalMs === undefined || intervalMs < 100)
      throw new OpsError('--interval must be a duration ≥ 100ms, e.g. 2s')
    const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count)
    for (let i = 0; i < count; i++) {
      // Clear and redraw in a terminal; in a pipe, print one snapshot after another.
      if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H')
      else if (i > 0) console.log('')
      console.log(dim(`${new Date().toISOString()}  every ${values.interval} · Ctrl-C to stop`))
      await status(ctx)
      if (i + 1 < count) await Bun.sleep(intervalMs)
    }
    return
  }
  if (command === 'trim') {
    const retentionMs = values.retention ? parseDuration(values.retention) : undefined
    if (retentionMs === undefined)
      throw new OpsError('trim needs --retention, e.g. --retention 7d (units: ms s m h d)')
    return trim(ctx, retentionMs)
  }
  if (command === 'dlq' && sub === 'list') {
    const limit = Number(values.limit)
    if (!Number.isInteger(limit) || limit < 1) throw new OpsError('--limit must be a positive integer')
    return dlqList(ctx, needGroup(), { limit, cursor: values.cursor, oldest: values.oldest })
  }
  if (command === 'dlq' && sub === 'show') {
    if (!id) throw new OpsError('dlq show <group> <id>')
    return dlqShow(ctx, needGroup(), id)
  }
  if (command === 'dlq' && sub === 'replay') return dlqReplay(ctx, needGroup(), target())
  if (command === 'dlq' && sub === 'purge') return dlqPurge(ctx, needGroup(), target())
  throw new OpsError(`unknown command "${positionals.join(' ')}"\n\n${USAGE}`)
}

let exitCode = 0
try {
  await run()
} catch (error) {
  exitCode = 1
  console.error(
    red(
      error instanceof OpsError || error instanceof OpsHttpError
        ? error.message
        : String((error as Error).stack ?? error),
    ),
  )
} finally {
  if (redis.status !== 'wait') await closeConnection(redis).catch(() => redis.disconnect())
}
process.exit(exitCode)
