/** The ledger's own private redis-server for a fault suite run: started once, never killed by a scenario. */
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import type { SuiteEnv } from '../scenarios/common.ts'
import { startPrivateRedis } from './redis-server.ts'
import { recorded, textTable } from './report.ts'

export const startLedgerServer = async () => {
  const server = await startPrivateRedis('none')
  const ledger = createRedisConnection(server.url, 'command')
  const env: SuiteEnv = { ledger, ledgerUrl: server.url }
  return {
    server,
    env,
    async stop() {
      await closeConnection(ledger)
      await server.stop()
    },
  }
}

/** Prints the rows recorded so far (the table, then each scenario's notes), under `title` when given. */
export const printRecorded = (title = ''): void => {
  const rows = recorded()
  if (rows.length > 0)
    console.log(`\n${title}${textTable()}\n\n${rows.map((r) => `- ${r.scenario}: ${r.notes}`).join('\n')}\n`)
}
