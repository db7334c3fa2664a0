/**
 * What the consumer fixture processes share: their arguments (`<redisUrl> <stream> <group> ...rest`), one
 * command connection, and a consumer on that group that records each event it handles in a Redis set.
 */
import { createRedisConnection } from '../connection.ts'
import { createConsumer } from '../consumer/consumer.ts'
import type { ConsumerMessage, ConsumerOptions } from '../consumer/types.ts'

/** The fixture's arguments after the script path, and a command connection to its Redis. */
export const fixtureArgs = () => {
  const [redisUrl = '', stream = '', group = '', ...rest] = process.argv.slice(2)
  return { redisUrl, stream, group, rest, redis: createRedisConnection(redisUrl, 'command') }
}

type FixtureArgs = ReturnType<typeof fixtureArgs>

/** Consumer options other than the connection, the stream, the group and the handler. */
type Tuning = Omit<ConsumerOptions, 'redisUrl' | 'connectionFactory' | 'stream' | 'group' | 'handler'>

/**
 * A started consumer that adds each handled event id to the set `handledKey`, once `before` has returned
 * (it may exit the process or hang instead).
 */
export const startRecordingConsumer = async (
  { redisUrl, stream, group, redis }: FixtureArgs,
  handledKey: string,
  before: (m: ConsumerMessage) => Promise<void> | void,
  tuning: Tuning,
) => {
  const consumer = createConsumer({
    redisUrl,
    stream,
    group,
    ...tuning,
    handler: {
      async handle(m) {
        await before(m)
        await redis.sadd(handledKey, m.event.id)
      },
    },
  })
  await consumer.start()
  return consumer
}
