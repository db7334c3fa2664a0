/**
 * The floor under introspection (a reference, not a baseline): an Elysia JSON POST that makes the same
 * three Redis calls the auth route makes (two counters and a three-field HMGET), all sent at once on one
 * auto-pipelined connection, with no tokens, no service kit and no rate-limit library. Prints `{ port }`;
 * deletes its keys on SIGTERM.
 */
import { Elysia, t } from 'elysia'
import { Redis } from 'ioredis'
// As in the apps: importing the streams package fixes ioredis's tracing check under Bun.
import '@flotilla/streams'

const prefix = `bench:floor:${process.pid}:`
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true })
await redis.hset(`${prefix}s`, {
  userId: 'u_bench',
  idleExpiresAt: '9999999999999',
  absoluteExpiresAt: '9999999999999',
})

const app = new Elysia()
  .post(
    '/',
    async ({ body }) => {
      const [, [userId, idle, absolute]] = await Promise.all([
        redis.incr(`${prefix}ip`),
        redis.hmget(`${prefix}s`, 'userId', 'idleExpiresAt', 'absoluteExpiresAt'),
        redis.incr(`${prefix}user`),
      ])
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
