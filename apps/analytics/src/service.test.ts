import { describe } from 'bun:test'
import { itIsNotReadyWithoutItsConsumer } from '@flotilla/service-kit/testing'
import { analyticsService } from './service.ts'

describe('the analytics service, started by the runner', () => {
  itIsNotReadyWithoutItsConsumer(analyticsService, {
    prefixVariable: 'ANALYTICS_REDIS_PREFIX',
    ownCheck: 'store',
  })
})
