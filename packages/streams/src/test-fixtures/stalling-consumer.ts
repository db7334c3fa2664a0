/**
 * A consumer process for the restart test: production timings (the default `claimIdleMs` of 30 s and
 * heartbeat), records each handled event id in a Redis set, and hangs on its first batch so the parent can
 * SIGKILL it with that batch pending. With `handle` as the fourth argument it handles normally instead (the
 * restarted process).
 * Usage: bun stalling-consumer.ts <redisUrl> <stream> <group> <hang|handle> <handledKey>
 */
import { fixtureArgs, startRecordingConsumer } from './fixture-consumer.ts'

const args = fixtureArgs()
const [mode = 'hang', handledKey = ''] = args.rest

const consumer = await startRecordingConsumer(
  args,
  handledKey,
  async () => {
    if (mode === 'hang') await new Promise(() => {}) // until killed
  },
  { batchSize: 50 },
)
process.stdout.write(`${JSON.stringify({ ready: true, name: consumer.name })}\n`)
