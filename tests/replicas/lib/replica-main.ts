/**
 * One replica process: the app's own declaration started by the kit's runner (`runService`, as its `main.ts`
 * does), with one addition — every job outcome that is a run (`ran`, `failed`) is appended to a ledger file, so the
 * suite can count runs per slot across every process, killed ones included (an append is one write(2), it
 * survives a SIGKILL that comes after it).
 *
 * Environment: `REPLICA_APP` (audit | analytics | notifications), `REPLICA_JOB_LEDGER` (file path), plus the app's
 * own settings.
 */
import { appendFileSync } from 'node:fs'
import { analyticsService } from '@flotilla/analytics'
import { auditService } from '@flotilla/audit'
import { notificationsService } from '@flotilla/notifications'
import { runService } from '@flotilla/service-kit'
import { withJobLedger } from './job-ledger.ts'

const ledger = process.env.REPLICA_JOB_LEDGER
const record = (line: object) => {
  if (ledger) appendFileSync(ledger, `${JSON.stringify(line)}\n`)
}

switch (process.env.REPLICA_APP) {
  case 'audit':
    await runService(withJobLedger(auditService, record))
    break
  case 'analytics':
    await runService(withJobLedger(analyticsService, record))
    break
  case 'notifications':
    await runService(withJobLedger(notificationsService, record))
    break
  default:
    console.error(`REPLICA_APP must be audit, analytics or notifications (got ${process.env.REPLICA_APP})`)
    process.exit(2)
}
