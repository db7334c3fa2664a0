import { describe } from 'bun:test'
import { itIsNotReadyWithoutItsConsumer } from '@flotilla/service-kit/testing'
import { notificationsService } from './service.ts'

describe('the notifications service, started by the runner', () => {
  itIsNotReadyWithoutItsConsumer(notificationsService, {
    prefixVariable: 'NOTIFICATIONS_REDIS_PREFIX',
    ownCheck: 'database',
  })
})
