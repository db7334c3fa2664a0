/** Shared setup for this package's own tests (not exported): a Redis URL, events, a consumer factory. */
import { createEvent } from '@flotilla/contracts'
import { createConsumer } from './consumer/consumer.ts'
import type { Consumer, ConsumerOptions } from './consumer/types.ts'

export const REDIS_URL = 'redis://127.0.0.1:6379'

let counter = 0
/** A valid `user.registered` event with a fresh id. */
export const userRegistered = (userId = `u_${++counter}`) =>
  createEvent('user.registered', { userId, email: `${userId}@example.com` }, { source: 'monolith' })

/** Creates consumers with fast test timings and closes them all in `afterEach`. */
export const consumerPool = () => {
  const consumers: Consumer[] = []
  return {
    create(
      options: Omit<ConsumerOptions, 'redisUrl' | 'connectionFactory'> &
        Partial<Pick<ConsumerOptions & { redisUrl: string }, 'redisUrl'>>,
    ) {
      const consumer = createConsumer({
        redisUrl: REDIS_URL,
        blockMs: 100,
        claimIdleMs: 300,
        backoff: { baseMs: 20, maxMs: 100 },
        closeTimeoutMs: 5000,
        ...options,
      } as ConsumerOptions)
      consumers.push(consumer)
      return consumer
    },
    closeAll: () => Promise.all(consumers.splice(0).map((c) => c.close())),
  }
}
