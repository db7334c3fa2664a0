/**
 * A consumer process for the process-killing-entry test: records each handled event id in a Redis set and
 * exits the whole process (exit code 3) when it meets an event of type `test.process.exit`.
 * Usage: bun exiting-consumer.ts <redisUrl> <stream> <group> <handledKey> <maxDeliveries>
 */
import { fixtureArgs, startRecordingConsumer } from './fixture-consumer.ts'

const args = fixtureArgs()
const [handledKey = '', maxDeliveries = '3'] = args.rest

await startRecordingConsumer(
  args,
  handledKey,
  (m) => {
    if (m.event.type === 'test.process.exit') process.exit(3)
  },
  {
    blockMs: 100,
    claimIdleMs: 200,
    backoff: { baseMs: 20, maxMs: 100 },
    maxDeliveries: Number(maxDeliveries),
  },
)
