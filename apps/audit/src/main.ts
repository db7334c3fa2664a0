/** Audit service entry: the declaration in service.ts, started by the kit's runner. */
import { runService } from '@flotilla/service-kit'
import { auditService } from './service.ts'

await runService(auditService)
