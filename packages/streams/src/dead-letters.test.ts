import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { inputsNotAnswering } from '@flotilla/contracts/testing'
import type { ConsumerMessage } from './consumer/types.ts'
import { createDeadLetters, InvalidEntryIdError, isEntryId } from './dead-letters.ts'
import { NonRetryableError } from './errors.ts'
import { createPublisher } from './publisher.ts'
import { useRedisStreams, userRegistered } from './test-support.ts'
import { waitFor } from './testing.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(30_000)

const { redis, pool, newStream } = useRedisStreams()

/** A stream whose group `g` dead-letters every event it is given. */
const deadLetterAll = async (count: number) => {
  const stream = newStream('dlq')
  const ids = await createPublisher({ redis, stream }).publishBatch(
    Array.from({ length: count }, () => userRegistered()),
  )
  const consumer = pool.create({
    stream,
    group: 'g',
    handler: {
      handle() {
        throw new NonRetryableError('no')
      },
    },
  })
  await consumer.start()
  const dlq = createDeadLetters({ redis, stream, group: 'g' })
  await waitFor(async () => (await dlq.count()) === count, { message: `${count} dead letters` })
  return { stream, ids, dlq }
}

const MAX = '18446744073709551615'

describe('isEntryId', () => {
  it('accepts ids as Redis writes them, up to the 64-bit maximum of each part', () => {
    for (const id of ['0-1', '1-0', '1764237600000-0', '1764237600000-42', `${MAX}-${MAX}`])
      expect(isEntryId(id), id).toBe(true)
  })

  it('refuses 0-0, out-of-range parts, other spellings and junk', () => {
    expect(
      inputsNotAnswering(false, isEntryId, [
        '0-0',
        '18446744073709551616-0',
        `0-18446744073709551616`,
        '99999999999999999999-0',
        '123456789012345678901-0',
        '01-0',
        '1-01',
        '-1-0',
        '+1-0',
        '1',
        '1-',
        '-',
        '+',
        '1-0 ',
        '1.5-0',
        '1e3-0',
        '١-٠',
        '',
      ]),
    ).toEqual([])
  })
})

describe('createDeadLetters', () => {
  it('refuses an id or cursor that is not an entry id before asking Redis (which would fail)', async () => {
    const dlq = createDeadLetters({ redis, stream: newStream('dlq-ids'), group: 'g' })
    for (const bad of ['0-0', '99999999999999999999-0', `${MAX}-18446744073709551616`, 'abc']) {
      await expect(dlq.list({ cursor: bad })).rejects.toBeInstanceOf(InvalidEntryIdError)
      await expect(dlq.get(bad)).rejects.toBeInstanceOf(InvalidEntryIdError)
      await expect(dlq.replay(bad)).rejects.toBeInstanceOf(InvalidEntryIdError)
      await expect(dlq.purge(bad)).rejects.toBeInstanceOf(InvalidEntryIdError)
    }
  })

  it('answers the edges of the id space with pages, not Redis errors', async () => {
    const { ids, dlq } = await deadLetterAll(2)
    expect(await dlq.list({ cursor: '0-1' })).toEqual({ items: [], nextCursor: null })
    expect(await dlq.list({ cursor: `${MAX}-${MAX}`, order: 'oldest' })).toEqual({
      items: [],
      nextCursor: null,
    })
    expect((await dlq.list({ cursor: `${MAX}-${MAX}` })).items.map((l) => l.originalId)).toEqual(
      [...ids].reverse(),
    )
    expect((await dlq.list({ cursor: '0-1', order: 'oldest' })).items.map((l) => l.originalId)).toEqual(ids)
    expect(await dlq.get(`${MAX}-${MAX}`)).toBeNull()
  })

  it('pages newest first by default, oldest first on request, without gaps or repeats', async () => {
    const { ids, dlq } = await deadLetterAll(5)
    const collect = async (order: 'newest' | 'oldest') => {
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await dlq.list({ limit: 2, order, ...(cursor ? { cursor } : {}) })
        seen.push(...page.items.map((l) => l.originalId))
        cursor = page.nextCursor ?? undefined
        pages++
      } while (cursor)
      return { seen, pages }
    }
    const newest = await collect('newest')
    expect(newest.pages).toBe(3)
    expect(newest.seen).toEqual([...ids].reverse())
    expect((await collect('oldest')).seen).toEqual(ids)
  })

  it('gets, purges one and purges all', async () => {
    const { ids, dlq } = await deadLetterAll(3)
    const [newest] = (await dlq.list({ limit: 1 })).items
    expect(await dlq.get(newest?.id as string)).toEqual(newest as NonNullable<typeof newest>)
    expect(newest?.originalId).toBe(ids[2] as string)
    expect(await dlq.get('1-1')).toBeNull()

    expect(await dlq.purge(newest?.id as string)).toBe(true)
    expect(await dlq.purge(newest?.id as string)).toBe(false)
    expect(await dlq.count()).toBe(2)
    expect(await dlq.purgeAll()).toBe(2)
    expect(await dlq.count()).toBe(0)
  })

  it('replays a dead letter to its own group only, and removes it from the dead-letter stream', async () => {
    const stream = newStream('replay')
    const poison = userRegistered()
    const [originalId] = await createPublisher({ redis, stream }).publishBatch([poison])
    let broken = true
    const seenByA: ConsumerMessage[] = []
    const seenByB: ConsumerMessage[] = []
    const a = pool.create({
      stream,
      group: 'a',
      handler: {
        handle(m) {
          if (broken) throw new NonRetryableError('downstream rejected it')
          seenByA.push(m)
        },
      },
    })
    const b = pool.create({ stream, group: 'b', handler: { handle: (m) => void seenByB.push(m) } })
    await Promise.all([a.start(), b.start()])
    const dlq = createDeadLetters({ redis, stream, group: 'a' })
    await waitFor(async () => (await dlq.count()) === 1 && seenByB.length === 1, {
      message: 'a dead letter in a',
    })

    broken = false
    const [letter] = (await dlq.list()).items
    const replayId = await dlq.replay(letter?.id as string)
    expect(replayId).toEqual(expect.any(String))
    expect(await dlq.replay(letter?.id as string)).toBeNull()

    await waitFor(() => seenByA.length === 1 && b.status().skippedReplays === 1, {
      message: 'the replay settled',
    })
    expect(seenByA[0]).toMatchObject({ streamId: replayId, replayOf: originalId, event: poison })
    expect(seenByB.map((m) => m.event.id)).toEqual([poison.id])
    expect(await dlq.count()).toBe(0)
    const fields = (await redis.xrange(stream, replayId as string, replayId as string))[0]?.[1]
    expect(fields).toEqual([
      'type',
      'user.registered',
      'event',
      JSON.stringify(poison),
      'replayFor',
      'a',
      'replayOf',
      originalId as string,
    ])
  })
})
