import { describe, expect, it } from 'bun:test'
import { encodeEntry } from '@flotilla/contracts'
import { userRegistered } from '../test-support.ts'
import { decodeDeliveries, decodeNewEntries, newEntriesOf } from './decode.ts'

const readReply = (entries: unknown[]) => [['events', entries]]

describe('newEntriesOf', () => {
  it('takes ids and field lists from an XREADGROUP reply, keeps deleted entries as null, and reads a timeout as no entries', () => {
    const fields = encodeEntry(userRegistered())
    const entries = newEntriesOf(
      readReply([
        ['1-0', fields],
        ['2-0', null],
        [3, fields],
        ['4-0', ['type', 7]],
      ]),
    )
    expect(entries.ids).toEqual(['1-0', '2-0', '4-0'])
    expect(entries.fields).toEqual([fields, null, ['type', 7]])
    expect(entries.fields[0]).toBe(fields)
    expect(newEntriesOf(null)).toEqual({ ids: [], fields: [] })
  })

  it('reads a reply of Buffers (callBuffer) to the same ids and messages as one of strings', () => {
    const event = userRegistered()
    const replayed = { ...userRegistered(), payload: { userId: 'u_ü', email: 'ü@example.com' } }
    const strings = [
      ['1-0', encodeEntry(event)],
      ['2-0', null],
      ['3-0', [...encodeEntry(replayed), 'replayFor', 'g', 'replayOf', '0-2', 'extra', 'é']],
    ] as const
    const buffers = strings.map(([id, fields]) => [
      Buffer.from(id),
      fields === null ? null : fields.map((f) => Buffer.from(f)),
    ])
    const fromStrings = decodeNewEntries('g', newEntriesOf(readReply([...strings])))
    const fromBuffers = decodeNewEntries('g', newEntriesOf(readReply(buffers)))

    expect(fromBuffers.ids).toEqual(['1-0', '2-0', '3-0'])
    expect(fromBuffers).toEqual(fromStrings)
    expect(fromBuffers.messages.map((m) => m.event)).toEqual([event, replayed])
    expect(fromBuffers.records[1]).toEqual(
      Object.assign(Object.create(null), {
        type: replayed.type,
        event: JSON.stringify(replayed),
        replayFor: 'g',
        replayOf: '0-2',
        extra: 'é',
      }),
    )
  })
})

describe('decodeNewEntries', () => {
  it('puts each entry in one place: a message, deleted, a replay for another group, or a contract violation', () => {
    const event = userRegistered()
    const replayed = userRegistered()
    const entries = newEntriesOf(
      readReply([
        ['1-0', encodeEntry(event)],
        ['2-0', null],
        ['3-0', [...encodeEntry(userRegistered()), 'replayFor', 'other', 'replayOf', '0-1']],
        ['4-0', ['type', 'user.registered', 'event', '{"not":"an event"}', 'n', 7]],
        ['5-0', [...encodeEntry(replayed), 'replayFor', 'g', 'replayOf', '0-2']],
      ]),
    )
    const batch = decodeNewEntries('g', entries)

    expect(batch.ids).toBe(entries.ids)
    expect(batch.messages).toEqual([
      { streamId: '1-0', deliveryCount: 1, group: 'g', known: true, event },
      { streamId: '5-0', deliveryCount: 1, group: 'g', replayOf: '0-2', known: true, event: replayed },
    ])
    expect(batch.records.map((r) => r.event)).toEqual([JSON.stringify(event), JSON.stringify(replayed)])
    expect(batch.deleted).toEqual(['2-0'])
    expect(batch.skipped).toEqual(['3-0'])
    expect(batch.invalid).toHaveLength(1)
    expect(batch.invalid[0]).toMatchObject({
      id: '4-0',
      deliveries: 1,
      reason: { code: 'CONTRACT_VIOLATION' },
    })
  })
})

describe('decodeDeliveries', () => {
  it('keeps each delivery count', () => {
    const event = userRegistered()
    const batch = decodeDeliveries('g', [{ id: '1-0', fields: encodeEntry(event), deliveryCount: 3 }])
    expect(batch.ids).toEqual(['1-0'])
    expect(batch.messages).toEqual([{ streamId: '1-0', deliveryCount: 3, group: 'g', known: true, event }])
  })
})
