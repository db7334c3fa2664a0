/**
 * The reader: blocking XREADGROUP on a connection of its own. It first re-reads this consumer's own
 * pending entries (id `0`), then new ones (`>`). A watchdog replaces the connection when a read stays
 * blocked past BLOCK + a margin on a "ready" socket (ioredis#1285: such a read can hang forever).
 */
import { nodeFor } from '../cluster.ts'
import { closeConnection, isCluster, type RedisClient, whenReady } from '../connection.ts'
import { isNoGroupError, reasonOf } from '../errors.ts'
import { type DecodedBatch, decodeNewEntries, type NewEntries, newEntriesOf } from './decode.ts'
import { readPending } from './group.ts'
import { processBatch, settleBatch } from './process.ts'
import { parseReadReply, type RawEntry } from './replies.ts'
import type { Runtime } from './runtime.ts'

const HUNG = Symbol('hung')

/** A read of new entries: decoded on arrival when a handler was running then, else when taken. */
interface Prefetched {
  readonly entries: NewEntries
  readonly decoded: DecodedBatch | undefined
}

/** The node connection serving `key`, once a cluster client knows its slots (at once for one Redis). */
const whenNodeKnown = async (redis: RedisClient, key: string) => {
  if (isCluster(redis)) await whenReady(redis, 10_000)
  return nodeFor(redis, key)
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface ReaderOptions {
  readonly blockMs: number
  readonly watchdogMarginMs: number
  readonly open: () => RedisClient
  readonly isRunning: () => boolean
}

export const createReader = (rt: Runtime, options: ReaderOptions) => {
  const { blockMs, watchdogMarginMs } = options
  let conn: RedisClient | undefined
  let clientId: number | undefined
  let reading = false
  // Start with our own pending entries (a restart under the same name, or entries a hung read may have taken).
  let needHistory = true
  let cursor = '0'

  const connect = () => {
    const c = options.open()
    conn = c
    clientId = undefined
    // Queued before the next read on this connection, so the id is known by the time a read blocks. On a
    // cluster, asked of the node connection that serves the stream: the one the blocking read goes through.
    return whenNodeKnown(c, rt.stream)
      .then((node) => node?.call('CLIENT', 'ID'))
      .then((id) => {
        if (conn === c && id !== undefined) clientId = Number(id)
      })
      .catch(() => {})
  }

  const replaceHungConnection = (hung: RedisClient) => {
    rt.counters.readerReconnects++
    rt.logger.warn(
      { stream: rt.stream, group: rt.group, consumer: rt.name, blockedMs: blockMs + watchdogMarginMs },
      'blocking read hung; replacing its connection',
    )
    hung.disconnect()
    needHistory = true
    cursor = '0'
    void connect()
  }

  /** XREADGROUP on the blocking connection; with `buffers`, its strings come back as Buffers (no decoding). */
  const read = async (args: (string | number)[], buffers = false): Promise<unknown> => {
    const c = conn as RedisClient
    reading = true
    const command = ['XREADGROUP', 'GROUP', rt.group, rt.name, 'COUNT', rt.batchSize, ...args] as const
    const result = buffers ? c.callBuffer(...command) : c.call(...command)
    let timer: ReturnType<typeof setTimeout> | undefined
    const watchdog = new Promise<typeof HUNG>((resolve) => {
      // While the connection is not ready ioredis is reconnecting and will resend the read: keep waiting.
      const arm = () => {
        timer = setTimeout(() => (c.status === 'ready' ? resolve(HUNG) : arm()), blockMs + watchdogMarginMs)
      }
      arm()
    })
    try {
      const winner = await Promise.race([result, watchdog])
      if (winner !== HUNG) return winner
      result.catch(() => {})
      replaceHungConnection(c)
      return null
    } finally {
      clearTimeout(timer)
      reading = false
    }
  }

  const pendingCounts = async (entries: readonly RawEntry[]) => {
    const first = entries[0]
    const last = entries.at(-1)
    if (!first || !last) return new Map<string, number>()
    const rows = await readPending(rt.command(), rt.stream, rt.group, {
      start: first.id,
      end: last.id,
      count: entries.length,
      consumer: rt.name,
    })
    return new Map(rows.map((row) => [row.id, row.deliveryCount]))
  }

  const readHistory = async () => {
    const entries = parseReadReply(await read(['STREAMS', rt.stream, cursor]))
    const last = entries.at(-1)
    if (!last) {
      needHistory = false
      cursor = '0'
      return
    }
    cursor = last.id
    const now = Date.now()
    // Leave alone what is already being handled, and retries whose delay has not passed (the reclaimer's job).
    const fresh = entries.filter((e) => !rt.inFlight.has(e.id) && !((rt.retryAt.get(e.id) ?? 0) > now))
    for (const e of fresh) rt.inFlight.add(e.id)
    let counts: Map<string, number>
    try {
      counts = await pendingCounts(entries)
    } catch (error) {
      for (const e of fresh) rt.inFlight.delete(e.id)
      throw error
    }
    await rt.exclusive(() =>
      processBatch(
        rt,
        fresh.map((e) => ({ ...e, deliveryCount: counts.get(e.id) ?? 1 })),
      ),
    )
  }

  // The next batch, read on the blocking connection while the current one is handled and acked on the
  // command connection: the read's round trip leaves the critical path. Its entries are marked in flight as soon
  // as they arrive, so the reclaimer leaves them alone; they wait at most one batch's handling. When they arrive
  // while the batch before them is with its handler (awaiting I/O), they are decoded at once, so that wait
  // hides the decode; otherwise they are decoded when taken, while the read after them runs in Redis.
  let prefetched: Promise<Prefetched> | undefined

  const readNewEntries = () =>
    // As Buffers: ioredis would decode every field name and value and copy every array; here only the ids and
    // the values are decoded, and the field names are matched as bytes.
    read(['BLOCK', blockMs, 'STREAMS', rt.stream, '>'], true).then((reply): Prefetched => {
      const entries = newEntriesOf(reply)
      rt.inFlight.addBatch(entries.ids)
      return { entries, decoded: rt.handling ? decodeNewEntries(rt.group, entries) : undefined }
    })

  const handleNew = ({ entries, decoded }: Prefetched) =>
    rt.exclusive(async () => {
      try {
        await settleBatch(rt, decoded ?? decodeNewEntries(rt.group, entries))
      } finally {
        rt.inFlight.deleteBatch(entries.ids)
      }
    })

  const readNew = async () => {
    const next = prefetched ?? readNewEntries()
    prefetched = undefined
    const batch = await next
    if (batch.entries.ids.length === 0) return
    if (options.isRunning() && !needHistory) {
      prefetched = readNewEntries()
      // Its failure (NOGROUP, a dropped connection) surfaces when the loop awaits it next.
      prefetched.catch(() => {})
    }
    await handleNew(batch)
  }

  /** After the loop stopped: what a read still in flight took is handled like any batch, not left waiting. */
  const settlePrefetched = async () => {
    const next = prefetched
    prefetched = undefined
    if (!next) return
    const batch = await next.catch(() => undefined)
    if (batch && batch.entries.ids.length > 0) await handleNew(batch)
  }

  return {
    /** Opens the blocking connection. */
    open: () => connect(),

    /** Reads and processes until the consumer stops running. */
    async loop() {
      while (options.isRunning()) {
        try {
          if (needHistory) await readHistory()
          else await readNew()
        } catch (error) {
          if (isNoGroupError(error)) {
            // Group gone, and our pending list with it: recreate and read from the group's start.
            needHistory = false
            cursor = '0'
            await rt.recoverGroup().catch((e) => rt.logger.error({ err: e }, 'could not recreate the group'))
            continue
          }
          if (!options.isRunning()) break
          rt.counters.lastError = reasonOf(error).message
          rt.logger.error({ err: error, stream: rt.stream, group: rt.group }, 'read failed; retrying')
          await sleep(250)
        }
      }
      await settlePrefetched()
    },

    /** Wakes a blocked read (CLIENT UNBLOCK: it returns as a timeout, so nothing read is dropped). */
    async interrupt(command: RedisClient) {
      for (let tries = 0; reading && tries < 40; tries++) {
        const node = nodeFor(command, rt.stream)
        if (clientId !== undefined && node) await node.call('CLIENT', 'UNBLOCK', clientId).catch(() => 0)
        await sleep(25)
      }
    },

    async close() {
      if (conn) await closeConnection(conn)
    },
  }
}
