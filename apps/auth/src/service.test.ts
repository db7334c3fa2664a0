import { describe } from 'bun:test'
import { itIsNotReadyWithoutItsConsumer } from '@flotilla/service-kit/testing'
import { authService } from './service.ts'

describe('the auth service, started by the runner', () => {
  itIsNotReadyWithoutItsConsumer(authService, { prefixVariable: 'AUTH_REDIS_PREFIX', ownCheck: 'signingKey' })
})
