/**
 * MongoDB audit store via the official driver. No multi-document transactions (they need a replica set):
 * each chain's new records go in with one ordered insertMany; the unique (chain, seq) index refuses a
 * forked seq and the unique event id refuses a duplicate, and on either we re-read the head and retry.
 * An ordered insert stops at the first refusal, so what landed is always a gapless prefix.
 */
import { type Collection, MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb'
import { chainOf } from '../../records/from-event.ts'
import { sealRecord } from '../../records/hash.ts'
import {
  type AuditRecord,
  type ChainHead,
  GENESIS_HASH,
  type RecordInput,
  type RetentionAnchor,
} from '../../records/model.ts'
import {
  type AppendResult,
  type AuditStore,
  type CountDimension,
  type StatsRow,
  toListPage,
} from '../types.ts'
import {
  ANCHOR_INDEXES,
  ANCHORS_COLLECTION,
  type AnchorDocument,
  countsPipeline,
  filterToQuery,
  fromDocument,
  LIST_SORT,
  PRUNED_EVENTS_COLLECTION,
  type PrunedEventDocument,
  RECORD_INDEXES,
  RECORDS_COLLECTION,
  type RecordDocument,
  statsPipeline,
  toDocument,
  topActorsPipeline,
} from './query.ts'

export interface MongoStoreOptions {
  readonly url: string
  /** @defaultValue the database named in the URL, else `flotilla_audit` */
  readonly dbName?: string
  /** Attempts per chain when another writer keeps winning the race. @defaultValue 50 */
  readonly maxAttempts?: number
}

const DUPLICATE_KEY = 11000

const isDuplicateKey = (error: unknown): boolean =>
  (error instanceof MongoServerError && error.code === DUPLICATE_KEY) ||
  (error instanceof MongoBulkWriteError &&
    [error.writeErrors].flat().some((e) => (e as { code?: number }).code === DUPLICATE_KEY))

const insertedCountOf = (error: unknown): number =>
  error instanceof MongoBulkWriteError ? error.insertedCount : 0

const anchorOf = (doc: AnchorDocument | null): RetentionAnchor | null =>
  doc ? { chain: doc.chain, seq: doc.seq, hash: doc.hash, prunedAt: doc.prunedAt } : null

/** Connects, creates the indexes and returns a MongoDB audit store. */
export const createMongoStore = async (options: MongoStoreOptions): Promise<AuditStore> => {
  const client = new MongoClient(options.url)
  await client.connect()
  const db = client.db(options.dbName ?? (new URL(options.url).pathname.slice(1) || 'flotilla_audit'))
  const records: Collection<RecordDocument> = db.collection(RECORDS_COLLECTION)
  const anchors: Collection<AnchorDocument> = db.collection(ANCHORS_COLLECTION)
  const pruned: Collection<PrunedEventDocument> = db.collection(PRUNED_EVENTS_COLLECTION)
  await records.createIndexes(RECORD_INDEXES)
  await anchors.createIndexes(ANCHOR_INDEXES)
  const maxAttempts = options.maxAttempts ?? 50

  const anchor = async (chain: string) => anchorOf(await anchors.findOne({ chain }))

  const head = async (chain: string): Promise<ChainHead | null> => {
    const last = await records.findOne(
      { chain },
      { sort: { seq: -1 }, projection: { seq: 1, hash: 1, type: 1, source: 1 } },
    )
    if (last) return { chain, seq: last.seq, hash: last.hash, type: last.type, source: last.source }
    const a = await anchor(chain)
    return a ? { chain, seq: a.seq, hash: a.hash } : null
  }

  /** Ids already recorded, or recorded and then pruned. */
  const existingIds = async (ids: string[]): Promise<Set<string>> => {
    const [found, gone] = await Promise.all([
      records.find({ eventId: { $in: ids } }, { projection: { eventId: 1 } }).toArray(),
      pruned.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray(),
    ])
    return new Set([...found.map((d) => d.eventId), ...gone.map((d) => d._id)])
  }

  /** Appends one chain's inputs (all new when read), retrying from a fresh head when a writer races us. */
  const appendChain = async (chain: string, inputs: RecordInput[], out: AuditRecord[], dups: string[]) => {
    let pending = inputs
    for (let attempt = 1; pending.length > 0; attempt++) {
      const start = (await head(chain)) ?? { seq: 0, hash: GENESIS_HASH }
      let prev = start
      const sealed = pending.map((input) => {
        const record = sealRecord(input, chain, prev.seq + 1, prev.hash)
        prev = { ...prev, seq: record.seq, hash: record.hash }
        return record
      })
      try {
        await records.insertMany(sealed.map(toDocument), { ordered: true })
        out.push(...sealed)
        return
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= maxAttempts) throw error
        const landed = insertedCountOf(error)
        out.push(...sealed.slice(0, landed))
        const rest = pending.slice(landed)
        const taken = await existingIds(rest.map((i) => i.eventId))
        for (const i of rest) if (taken.has(i.eventId)) dups.push(i.eventId)
        pending = rest.filter((i) => !taken.has(i.eventId))
      }
    }
  }

  let closing: Promise<void> | undefined
  return {
    kind: 'mongodb',

    async append(inputs): Promise<AppendResult> {
      const duplicates: string[] = []
      const order = new Map<string, number>()
      const fresh: RecordInput[] = []
      const taken = inputs.length ? await existingIds([...new Set(inputs.map((i) => i.eventId))]) : new Set()
      for (const input of inputs) {
        if (taken.has(input.eventId) || order.has(input.eventId)) {
          duplicates.push(input.eventId)
          continue
        }
        order.set(input.eventId, order.size)
        fresh.push(input)
      }
      const byChain = new Map<string, RecordInput[]>()
      for (const input of fresh) {
        const chain = chainOf(input.tenantId)
        const list = byChain.get(chain)
        if (list) list.push(input)
        else byChain.set(chain, [input])
      }
      const appended: AuditRecord[] = []
      for (const [chain, list] of byChain) await appendChain(chain, list, appended, duplicates)
      appended.sort((a, b) => (order.get(a.eventId) ?? 0) - (order.get(b.eventId) ?? 0))
      return { appended, duplicates }
    },

    async list(filter, { after, limit }) {
      const docs = await records
        .find(filterToQuery(filter, after), { sort: LIST_SORT, limit: limit + 1 })
        .toArray()
      return toListPage(docs, limit, fromDocument)
    },

    async chainRecords(chain, afterSeq, limit) {
      const docs = await records
        .find({ chain, seq: { $gt: afterSeq } }, { sort: { seq: 1 }, limit })
        .toArray()
      return docs.map(fromDocument)
    },

    async recordAt(chain, seq) {
      const doc = await records.findOne({ chain, seq })
      return doc ? fromDocument(doc) : null
    },

    head,
    anchor,

    async chains() {
      const [a, b] = await Promise.all([records.distinct('chain'), anchors.distinct('chain')])
      return [...new Set([...a, ...b])].sort()
    },

    async prune(chain, before, { now = new Date(), beforeDelete } = {}) {
      const [firstKept] = await records
        .find({ chain, receivedAt: { $gte: before.toISOString() } }, { sort: { seq: 1 }, limit: 1 })
        .toArray()
      const current = await anchor(chain)
      const last = firstKept ? firstKept.seq - 1 : ((await head(chain))?.seq ?? 0)
      if (last <= (current?.seq ?? 0)) return null
      const record = await records.findOne({ chain, seq: last })
      if (!record) throw new Error(`chain ${chain} has no record at seq ${last}: cannot anchor`)
      const next: RetentionAnchor = { chain, seq: last, hash: record.hash, prunedAt: now.toISOString() }
      await beforeDelete?.(next)
      // Anchor first: a crash before the delete leaves old records behind the anchor, never a gap.
      const moved = await anchors.updateOne({ chain, seq: { $lt: next.seq } }, { $set: { ...next } })
      if (moved.matchedCount === 0) {
        try {
          await anchors.insertOne({ ...next })
        } catch (error) {
          // Another pruner anchored this chain at or past `last` already: nothing left to do here.
          if (isDuplicateKey(error)) return null
          throw error
        }
      }
      // Keep the pruned ids (in pages, never all at once); unordered so ids a crashed earlier run already
      // kept are skipped while the rest still go in.
      const keep = (batch: PrunedEventDocument[]) =>
        pruned.insertMany(batch, { ordered: false }).catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error
        })
      let batch: PrunedEventDocument[] = []
      for await (const d of records.find({ chain, seq: { $lte: last } }, { projection: { eventId: 1 } })) {
        batch.push({ _id: d.eventId, chain, prunedAt: next.prunedAt })
        if (batch.length === 1000) {
          await keep(batch)
          batch = []
        }
      }
      if (batch.length > 0) await keep(batch)
      await records.deleteMany({ chain, seq: { $lte: last } })
      return next
    },

    async stats(filter, groupBy): Promise<StatsRow[]> {
      const rows = await records
        .aggregate<{ _id: string; count: number }>(statsPipeline(filter, groupBy))
        .toArray()
      return rows.map((r) => ({ key: r._id, count: r.count }))
    },

    async counts(query) {
      const rows = await records
        .aggregate<{ _id: { bucket?: number } & Partial<Record<CountDimension, string>>; count: number }>(
          countsPipeline(query),
        )
        .toArray()
      // $group yields no document for no input; SQL's count(*) without GROUP BY yields one row of 0.
      if (rows.length === 0 && query.groupBy.length === 0 && !query.interval) return [{ keys: {}, count: 0 }]
      return rows.map(({ _id: { bucket, ...keys }, count }) => ({
        ...(query.interval ? { bucketMs: Number(bucket) } : {}),
        keys,
        count,
      }))
    },

    async topActors(filter, limit) {
      const rows = await records
        .aggregate<{ _id: { actorType: string; actorId: string }; count: number }>(
          topActorsPipeline(filter, limit),
        )
        .toArray()
      return rows.map((r) => ({ actorType: r._id.actorType, actorId: r._id.actorId, count: r.count }))
    },

    count: (filter) => records.countDocuments(filterToQuery(filter)),

    close() {
      closing ??= client.close()
      return closing
    },
  }
}
