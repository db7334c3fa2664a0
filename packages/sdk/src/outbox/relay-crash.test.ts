import { afterEach, expect, it, setDefaultTimeout } from 'bun:test'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import { drizzle } from 'drizzle-orm/postgres-js'
import { TEST_DATABASE_URL } from '../testing.ts'
import { enqueue } from './enqueue.ts'
import { createOutboxRelay } from './relay.ts'
import { flotillaOutbox } from './schema.ts'
import { createOutboxFixture, numberedEvent, type OutboxFixture } from './test-helpers.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

let fx: OutboxFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

/** Reads the child's stdout until a line starts with `prefix`. */
const waitForLine = async (stream: ReadableStream<Uint8Array>, prefix: string): Promise<string> => {
  const decoder = new TextDecoder()
  const reader = stream.getReader()
  let text = ''
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    text += decoder.decode(read.value, { stream: true })
    const line = text.split('\n').find((l) => l.startsWith(prefix))
    if (line) {
      reader.releaseLock()
      return line
    }
  }
  throw new Error(`the relay exited before printing "${prefix}"; output: ${text}`)
}

it('publishes again with the same event id after a relay is killed between publish and mark-sent', async () => {
  fx = await createOutboxFixture()
  const db = drizzle({ client: fx.db.sql })
  const event = numberedEvent(1)
  await enqueue(db, event)

  const child = Bun.spawn(
    bunCommand(join(import.meta.dir, 'relay-crash.fixture.ts'), TEST_DATABASE_URL, fx.db.schema, fx.stream),
    { env: testProcessEnv(), stdout: 'pipe', stderr: 'inherit' },
  )
  try {
    expect(await waitForLine(child.stdout, 'published ')).toBe(`published ${event.id}`)
  } finally {
    child.kill('SIGKILL')
  }
  await child.exited
  // The event reached the stream, but the row was never marked sent: its transaction died with the process.
  expect((await fx.readStream()).map((e) => e.id)).toEqual([event.id])
  const [row] = await db.select().from(flotillaOutbox)
  expect(row?.sentAt).toBeNull()

  // The server notices the dead connection and releases the row lock; a fresh relay sends the row again.
  const relay = createOutboxRelay({ sql: fx.db.sql, publisher: fx.publisher })
  let taken = 0
  for (let tries = 0; taken === 0 && tries < 100; tries++) {
    taken = await relay.relayOnce()
    if (taken === 0) await Bun.sleep(50)
  }
  await relay.close()
  const onStream = await fx.readStream()
  expect(onStream.map((e) => e.id)).toEqual([event.id, event.id])
  expect(onStream[1]).toEqual(onStream[0]!)
  const [sent] = await db.select().from(flotillaOutbox)
  expect(sent?.sentAt).toBeInstanceOf(Date)
})
