import { describe, expect, it } from 'bun:test'
import { MongoClient } from 'mongodb'
import { hashRecord } from '../../records/hash.ts'
import { sampleInput } from '../../records/sample.ts'
import { describeStoreConformance } from '../conformance.ts'
import {
  countsPipeline,
  filterToQuery,
  fromDocument,
  LIST_SORT,
  RECORD_INDEXES,
  statsPipeline,
  toDocument,
  topActorsPipeline,
} from './query.ts'
import { createMongoStore } from './store.ts'

// No MongoDB server exists on the machines that build this project: the suite runs only when one is named.
const MONGODB_URL = process.env.MONGODB_URL
if (!MONGODB_URL) {
  console.log('SKIPPED: audit store conformance suite against MongoDB (MONGODB_URL not set)')
}

describeStoreConformance(
  'MongoDB',
  async () => {
    const dbName = `audit_test_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const url = MONGODB_URL as string
    return {
      open: () => createMongoStore({ url, dbName }),
      async cleanup() {
        const client = await new MongoClient(url).connect()
        await client.db(dbName).dropDatabase()
        await client.close()
      },
    }
  },
  { skip: !MONGODB_URL },
)

describe('MongoDB store: query documents (no server needed)', () => {
  it('maps every filter to an indexed equality or range', () => {
    const from = new Date('2026-01-01T00:00:00.000Z')
    const to = new Date('2026-02-01T00:00:00.000Z')
    expect(
      filterToQuery({
        tenantId: 't1',
        actorId: 'u1',
        actorType: 'user',
        subjectId: 's1',
        correlationId: 'c1',
        type: 'user.deleted',
        from,
        to,
      }),
    ).toEqual({
      tenantId: 't1',
      actorId: 'u1',
      actorType: 'user',
      subjectId: 's1',
      correlationId: 'c1',
      type: { $eq: 'user.deleted' },
      occurredMs: { $gte: from.getTime(), $lt: to.getTime() },
    })
  })

  it('turns a type prefix into a range instead of a regex', () => {
    expect(filterToQuery({ typePrefix: 'user.' })).toEqual({ type: { $gte: 'user.', $lt: 'user/' } })
  })

  it('leaves out filters that are not given', () => {
    expect(filterToQuery({})).toEqual({})
    expect(filterToQuery({ from: new Date(5) })).toEqual({ occurredMs: { $gte: 5 } })
  })

  it('adds the keyset condition after a cursor position, matching the list sort', () => {
    expect(filterToQuery({ tenantId: 't' }, { occurredMs: 100, eventId: 'e5' })).toEqual({
      tenantId: 't',
      $or: [{ occurredMs: { $lt: 100 } }, { occurredMs: 100, eventId: { $lt: 'e5' } }],
    })
    expect(LIST_SORT).toEqual({ occurredMs: -1, eventId: -1 })
  })

  it('groups stats by type, source, or actor with events without an actor under (none)', () => {
    const [match, group, sort] = statsPipeline({ tenantId: 't' }, 'actor')
    expect(match).toEqual({ $match: { tenantId: 't' } })
    expect(group).toEqual({
      $group: {
        _id: { $ifNull: [{ $concat: ['$actorType', ':', '$actorId'] }, '(none)'] },
        count: { $sum: 1 },
      },
    })
    expect(sort).toEqual({ $sort: { count: -1, _id: 1 } })
    expect(statsPipeline({}, 'type')[1]).toMatchObject({ $group: { _id: '$type' } })
    expect(statsPipeline({}, 'source')[1]).toMatchObject({ $group: { _id: '$source' } })
  })

  it('counts by time bucket and dimensions in the order the SQL stores use', () => {
    const from = new Date(0)
    const pipeline = countsPipeline({
      filter: { from },
      groupBy: ['tenant', 'actor'],
      interval: 'hour',
      limit: 7,
    })
    expect(pipeline).toEqual([
      { $match: { occurredMs: { $gte: 0 } } },
      {
        $group: {
          _id: {
            bucket: {
              $subtract: [
                '$occurredMs',
                { $mod: [{ $add: [{ $mod: ['$occurredMs', 3_600_000] }, 3_600_000] }, 3_600_000] },
              ],
            },
            tenant: { $ifNull: ['$tenantId', '(none)'] },
            actor: { $ifNull: [{ $concat: ['$actorType', ':', '$actorId'] }, '(none)'] },
          },
          count: { $sum: 1 },
        },
      },
      { $sort: { '_id.bucket': 1, count: -1, '_id.tenant': 1, '_id.actor': 1 } },
      { $limit: 7 },
    ])
    expect(countsPipeline({ filter: {}, groupBy: [], limit: 1 })[1]).toEqual({
      $group: { _id: {}, count: { $sum: 1 } },
    })
  })

  it('ranks top actors among events that have one', () => {
    expect(topActorsPipeline({ tenantId: 't' }, 3)).toEqual([
      { $match: { $and: [{ tenantId: 't' }, { actorType: { $ne: null }, actorId: { $ne: null } }] } },
      { $group: { _id: { actorType: '$actorType', actorId: '$actorId' }, count: { $sum: 1 } } },
      { $sort: { count: -1, '_id.actorType': 1, '_id.actorId': 1 } },
      { $limit: 3 },
    ])
  })

  it('declares unique indexes on the event id and on (chain, seq)', () => {
    const unique = RECORD_INDEXES.filter((i) => i.unique).map((i) => i.key)
    expect(unique).toEqual([{ eventId: 1 }, { chain: 1, seq: 1 }])
    // Every query shape has an index starting with its equality field.
    for (const field of ['tenantId', 'actorId', 'type', 'subjectId', 'correlationId']) {
      expect(RECORD_INDEXES.some((i) => Object.keys(i.key as object)[0] === field)).toBe(true)
    }
  })

  it('round-trips a record through its document without changing its hash', () => {
    const input = sampleInput({ payload: { b: 1, a: { y: [1, 2], x: null }, big: 2 ** 53 - 1 } })
    const record = { ...input, chain: 'c', seq: 1, prevHash: '0'.repeat(64), hash: '' }
    record.hash = hashRecord(record)
    const doc = toDocument(record)
    expect(typeof doc.payloadJson).toBe('string')
    expect(doc.occurredMs).toBe(Date.parse(record.occurredAt))
    const back = fromDocument({ ...doc, _id: 'x' } as never)
    expect(back).toEqual(record)
    expect(hashRecord(back)).toBe(record.hash)
  })
})
