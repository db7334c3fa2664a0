/** Analytics service entry: the declaration in service.ts, started by the kit's runner. */
import { runService } from '@flotilla/service-kit'
import { analyticsService } from './service.ts'

await runService(analyticsService)
