/**
 * The worker thread of the analytics benchmark's overlap ceiling: the ingest's libSQL transaction (event ids,
 * minute counters, dirty marks) for each batch of decoded events it is sent; the uniques stay with the sender.
 */
import { openDatabase } from '@flotilla/analytics'
import { createIngest, type createUniques } from '@flotilla/analytics/testing'
import type { AnyEvent } from '@flotilla/contracts'

declare const self: Worker

export type ToIngestWorker =
  | { readonly type: 'open'; readonly url: string }
  | { readonly type: 'ingest'; readonly id: number; readonly events: readonly AnyEvent[] }
  | { readonly type: 'close' }

type Uniques = ReturnType<typeof createUniques>
// The SQL transaction alone: the sender adds the batch's uniques to Redis itself.
const NO_UNIQUES = { add: async () => {} } as unknown as Uniques

let database: Awaited<ReturnType<typeof openDatabase>> | null = null
let ingest: ReturnType<typeof createIngest> | null = null

self.onmessage = async (event: MessageEvent<ToIngestWorker>) => {
  const message = event.data
  if (message.type === 'ingest') {
    await (ingest as ReturnType<typeof createIngest>).ingestBatch(message.events)
    self.postMessage({ id: message.id })
    return
  }
  await database?.close()
  database = null
  if (message.type === 'open') {
    database = await openDatabase({ url: message.url })
    ingest = createIngest({ db: database.db, uniques: NO_UNIQUES })
  }
  self.postMessage({ id: -1 })
}
