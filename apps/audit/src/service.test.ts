import { describe } from 'bun:test'
import { itIsNotReadyWithoutItsConsumer } from '@flotilla/service-kit/testing'
import { auditService } from './service.ts'

describe('the audit service, started by the runner', () => {
  itIsNotReadyWithoutItsConsumer(auditService, { prefixVariable: 'AUDIT_REDIS_PREFIX', ownCheck: 'store' })
})
