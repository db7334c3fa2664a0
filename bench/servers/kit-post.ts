/**
 * A ceiling under introspection: the same JSON POST as elysia-post.ts on the service kit's base app (request
 * ids, access log line, metrics, span, body checks, error shape; the auth bench server's silent logger), with
 * no Redis and no tokens. Prints `{ port }` once listening.
 */
import { createLogger, createMetrics, createServiceApp } from '@flotilla/service-kit'
import { t } from 'elysia'

const app = createServiceApp({
  name: 'bench',
  version: '0.0.0',
  logger: createLogger({ service: 'bench', level: 'silent' }),
  metrics: createMetrics('bench'),
})
  .post('/', ({ body }) => ({ active: true, n: body.token.length }), {
    body: t.Object({ token: t.String() }),
  })
  .listen({ port: 0, hostname: '127.0.0.1' })
console.log(JSON.stringify({ port: app.server?.port, pid: process.pid }))
process.on('SIGTERM', () => process.exit(0))
