/** `bun run start` — the whole stack on one machine: Redis (started if needed), the four apps, their readiness. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { APPS, type AppInfo, appUrl, mainOf, ROOT } from './lib/apps.ts'
import { type Child, spawnPrefixed, stopAll } from './lib/processes.ts'
import { HOW_TO_GET_REDIS, type LocalRedis, redisAnswers, startLocalRedis } from './lib/redis-local.ts'
import { bold, dim, green, paint, red, yellow } from './lib/term.ts'

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'port-offset': { type: 'string', default: '0' },
    raw: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: bun run start [--only auth,audit] [--raw] [--port-offset N]

  Starts Redis when nothing answers at REDIS_URL (and redis-server is installed), then each app as its own
  process with prefixed log lines, and reports each app's /ready. Ctrl-C stops everything.
  --only   run only these apps          --raw   print the apps' JSON log lines as they are
  --port-offset N   listen on 3001+N… (a second stack beside the first; give it its own EVENTS_STREAM)`)
  process.exit(0)
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** How long an app gets to drain its consumer after SIGTERM (fly kill_timeout is 30 s; locally less). */
const STOP_GRACE_MS = 15_000
const WIDTH = Math.max(...APPS.map((a) => a.name.length))
const offset = Number(values['port-offset'])
if (!Number.isInteger(offset) || offset < 0 || offset > 60_000) {
  console.error(red('--port-offset must be an integer between 0 and 60000'))
  process.exit(2)
}
const portOf = (app: AppInfo) => app.port + offset

const selected = values.only
  ? APPS.filter((a) =>
      values
        .only!.split(',')
        .map((s) => s.trim())
        .includes(a.name),
    )
  : APPS
if (selected.length === 0) {
  console.error(red(`--only names no app (apps: ${APPS.map((a) => a.name).join(', ')})`))
  process.exit(2)
}

const children: Child[] = []
let redis: LocalRedis | undefined
let stopping: Promise<void> | undefined

/** Apps first (they drain and ack through Redis), Redis last. Safe to call twice. */
const shutdown = (exitCode: number) => {
  stopping ??= (async () => {
    console.log('')
    await stopAll(children, STOP_GRACE_MS)
    if (redis) {
      redis.proc.kill('SIGTERM')
      await redis.proc.exited
      console.log(`${bold('redis')} stopped ${dim(`(data kept in ${redis.dataDir})`)}`)
    }
    process.exit(exitCode)
  })()
  return stopping
}
let interrupts = 0
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts++
    if (interrupts > 1) {
      console.log(red('second interrupt: killing everything now'))
      for (const c of children) c.proc.kill('SIGKILL')
      redis?.proc.kill('SIGKILL')
      process.exit(130)
    }
    void shutdown(0)
  })
}
// Children run in their own process groups; never leave them behind, even on an unexpected exit.
process.on('exit', () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL')
  if (redis && redis.proc.exitCode === null) redis.proc.kill('SIGTERM')
})

// ── Redis ─────────────────────────────────────────────────────────────────────────────────────────────
if (await redisAnswers(REDIS_URL)) {
  console.log(`${green('✓')} redis answering at ${REDIS_URL}`)
} else {
  const started = await startLocalRedis(REDIS_URL)
  if ('reason' in started) {
    console.error(
      red(
        `✗ nothing answers at REDIS_URL=${REDIS_URL}, and no Redis can be started here: ${started.reason}.`,
      ),
    )
    console.error(`\nGet one:\n${HOW_TO_GET_REDIS}`)
    process.exit(1)
  }
  redis = started
  console.log(
    `${green('✓')} started redis-server at ${REDIS_URL} ${dim(`(data in ${started.dataDir}; stopped with the stack)`)}`,
  )
}

// ── Apps ──────────────────────────────────────────────────────────────────────────────────────────────
/** True when something already listens on the port (another stack, a stray app). */
const portTaken = (port: number): boolean => {
  try {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
    return false
  } catch {
    return true
  }
}

const urlEnv = Object.fromEntries(
  APPS.map((a) => [a.urlVariable, offset === 0 ? appUrl(a, process.env) : `http://127.0.0.1:${portOf(a)}`]),
)
const started: AppInfo[] = []
for (const app of selected) {
  const label = paint(app.colour, app.name.padEnd(WIDTH))
  if (portTaken(portOf(app))) {
    console.log(
      `${red('✗')} ${label} not started: port ${portOf(app)} is in use (another \`bun run start\`?)`,
    )
    continue
  }
  const env = {
    ...process.env,
    ...urlEnv,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    REDIS_URL,
    PORT: String(portOf(app)),
    // One folder per app, so their libSQL files and outboxes never collide.
    DATA_DIR: process.env.DATA_DIR ? join(process.env.DATA_DIR, app.name) : join(ROOT, '.data', app.name),
  }
  // Some apps expect DATA_DIR to exist (the image's /data always does).
  mkdirSync(env.DATA_DIR, { recursive: true })
  const child = spawnPrefixed(app.name, app.colour, ['bun', mainOf(app)], {
    cwd: ROOT,
    env,
    raw: values.raw,
    width: WIDTH,
  })
  children.push(child)
  started.push(app)
  // Watch in the background: `exited` never rejects, and the stack keeps starting the other apps meanwhile.
  void child.exited.then((code) => {
    if (stopping) return
    const state = readiness.get(app.name)
    const when = state === 'ready' ? 'after it was ready' : 'before it became ready: see its lines above'
    console.log(`${red('✗')} ${label} exited with code ${code} ${when}`)
    readiness.set(app.name, 'exited')
    if (children.every((c) => c.proc.exitCode !== null)) {
      console.log(red('every app has exited; stopping'))
      void shutdown(1)
    }
  })
}
if (started.length === 0) {
  console.log(red('no app could be started'))
  await shutdown(1)
}

console.log('')
for (const app of started) {
  const base = `http://127.0.0.1:${portOf(app)}`
  const pages = app.pages.map((p) => `${p.label} ${bold(base + p.path)}`).join('   ')
  console.log(`  ${paint(app.colour, app.name.padEnd(WIDTH))}  ${pages}`)
}
console.log(
  dim(`
  API routes take a service token: \`bun run ops token <app>\` prints one for Swagger's Authorize button, and
  \`bun run ops outbox\` lists the email outbox. \`bun run demo\` publishes sample events; \`bun run ops status\`
  shows the consumer groups. Ctrl-C stops everything.
`),
)

// ── Readiness ─────────────────────────────────────────────────────────────────────────────────────────
type Readiness = 'starting' | 'not ready' | 'ready' | 'exited'
const readiness = new Map<string, Readiness>(started.map((a) => [a.name, 'starting']))
const bootedAt = Date.now()

const probe = async (app: AppInfo): Promise<{ state: Readiness; detail: string }> => {
  try {
    const response = await fetch(`http://127.0.0.1:${portOf(app)}/ready`, {
      signal: AbortSignal.timeout(2000),
    })
    const detail = (await response.text()).slice(0, 300)
    return { state: response.ok ? 'ready' : 'not ready', detail }
  } catch {
    return { state: 'starting', detail: '' }
  }
}

const watchReadiness = async (app: AppInfo) => {
  const label = paint(app.colour, app.name.padEnd(WIDTH))
  while (!stopping && readiness.get(app.name) !== 'exited') {
    const { state, detail } = await probe(app)
    const before = readiness.get(app.name)
    if (readiness.get(app.name) === 'exited' || stopping) return
    if (state !== before && !(state === 'starting' && before !== 'starting')) {
      readiness.set(app.name, state)
      if (state === 'ready') {
        const after =
          before === 'starting' || before === 'not ready'
            ? ` in ${((Date.now() - bootedAt) / 1000).toFixed(1)}s`
            : ''
        console.log(`${green('✓')} ${label} ready${after}`)
        if ([...readiness.values()].every((s) => s === 'ready'))
          console.log(green(`\n  all ${started.length} apps ready\n`))
      } else if (state === 'not ready') {
        console.log(`${yellow('…')} ${label} not ready: ${dim(detail)}`)
      }
    }
    await Bun.sleep(readiness.get(app.name) === 'ready' ? 2000 : 500)
  }
}
for (const app of started) void watchReadiness(app)
