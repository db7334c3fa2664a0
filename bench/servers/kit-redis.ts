/**
 * The combined ceiling under introspection: the kit POST of kit-post.ts plus the one Redis script auth sends
 * per verified request (both rate-limit hits and the three-field session read), on auth's own command
 * connection, with no tokens. The most the route could reach with the kit's cost and its one round trip.
 * Prints `{ port, pid }`; deletes its keys on SIGTERM.
 */
import { createLogger, createMetrics, createServiceApp } from '@flotilla/service-kit'
import { t } from 'elysia'
import { openCommandConnection } from '../../apps/auth/src/deps.ts'
import { INTROSPECTION_GATE_LUA } from '../../apps/auth/src/introspection/gate.ts'

const prefix = `bench:kit-redis:${process.pid}:`
const redis = openCommandConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
// Auth's own introspection gate script: two limit hits, then the session's liveness fields.
redis.defineCommand('benchGate', { numberOfKeys: 3, lua: INTROSPECTION_GATE_LUA })
const gate = (
  redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown[]>>
).benchGate!.bind(redis)
await redis.hset(`${prefix}s`, {
  userId: 'u_bench',
  idleExpiresAt: '9999999999999',
  absoluteExpiresAt: '9999999999999',
})
// Limits no bench run reaches, so every hit counts and none refuses.
const WINDOW_MS = 60_000
const POINTS = 1_000_000_000

const app = createServiceApp({
  name: 'bench',
  version: '0.0.0',
  logger: createLogger({ service: 'bench', level: 'silent' }),
  metrics: createMetrics('bench'),
})
  .post(
    '/',
    async ({ body }) => {
      const [, , userId, idle, absolute] = await gate(
        `${prefix}ip`,
        `${prefix}user`,
        `${prefix}s`,
        WINDOW_MS,
        POINTS,
        WINDOW_MS,
        POINTS,
      )
      const now = Date.now()
      return { active: userId !== null && Number(idle) > now && Number(absolute) > now, n: body.token.length }
    },
    { body: t.Object({ token: t.String() }) },
  )
  .listen({ port: 0, hostname: '127.0.0.1' })
console.log(JSON.stringify({ port: app.server?.port, pid: process.pid }))

process.on('SIGTERM', async () => {
  await redis.del(`${prefix}s`, `${prefix}ip`, `${prefix}user`)
  redis.disconnect()
  process.exit(0)
})
