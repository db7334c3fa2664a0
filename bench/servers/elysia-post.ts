/**
 * A ceiling under introspection: a bare Elysia JSON POST (the introspection body, validated) answering a
 * constant, with no Redis, tokens or service kit. Prints `{ port }` once listening.
 */
import { Elysia, t } from 'elysia'

const app = new Elysia()
  .post('/', ({ body }) => ({ active: true, n: body.token.length }), {
    body: t.Object({ token: t.String() }),
  })
  .listen({ port: 0, hostname: '127.0.0.1' })
console.log(JSON.stringify({ port: app.server?.port, pid: process.pid }))
process.on('SIGTERM', () => process.exit(0))
