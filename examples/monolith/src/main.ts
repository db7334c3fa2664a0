/** The example monolith: register, login, change-password and place-order over PostgreSQL, with Flotilla wired in. */
import { createApp } from './app.ts'
import { loadConfigOrExit } from './config.ts'
import { migrateDatabase } from './db/migrate.ts'
import { buildDeps } from './deps.ts'

const config = loadConfigOrExit()
const deps = buildDeps(config, { relay: config.OUTBOX_RELAY })
await migrateDatabase(deps.sql, config.DATABASE_SCHEMA)
await deps.relay?.start()
const server = createApp(deps).listen({ port: config.PORT, hostname: '0.0.0.0' })
console.log(
  JSON.stringify({
    level: 'info',
    msg: 'monolith listening',
    port: server.server?.port,
    relay: config.OUTBOX_RELAY,
  }),
)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  console.log(JSON.stringify({ level: 'info', msg: 'shutting down', signal }))
  await server.stop()
  await deps.close()
  process.exit(0)
}
// Fly stops machines with SIGINT; Kubernetes and Docker with SIGTERM.
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
