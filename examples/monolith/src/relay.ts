/** The outbox relay on its own (run it beside a monolith started with OUTBOX_RELAY=false; any number of copies). */
import { loadConfigOrExit } from './config.ts'
import { migrateDatabase } from './db/migrate.ts'
import { buildDeps } from './deps.ts'

const config = loadConfigOrExit()
const deps = buildDeps(config, { relay: true })
await migrateDatabase(deps.sql, config.DATABASE_SCHEMA)
await deps.relay?.start()
console.log(JSON.stringify({ level: 'info', msg: 'outbox relay running', stream: config.EVENTS_STREAM }))

let stopping = false
const shutdown = async () => {
  if (stopping) return
  stopping = true
  await deps.close()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
