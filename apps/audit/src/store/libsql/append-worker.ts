/**
 * The worker thread of the worker appender (worker-append.ts): runs each batch's whole append — chain-head
 * read, hashing, INSERT, COMMIT — on its own `libsql` connection (local-append.ts), off the thread that reads
 * the stream. Replies with what was sealed, or with the error as data the caller rebuilds.
 */
import type { AuditRecord, RecordInput } from '../../records/model.ts'
import { type LocalAppender, openLocalAppender } from './local-append.ts'
import type { FromWorker, Sealed, ToWorker, WorkerError } from './worker-protocol.ts'

declare const self: Worker

const errorData = (error: unknown): WorkerError => {
  const e = error as Error & { code?: unknown; extendedCode?: unknown; rawCode?: unknown }
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.extendedCode === 'string' ? { extendedCode: e.extendedCode } : {}),
    ...(typeof e?.rawCode === 'number' ? { rawCode: e.rawCode } : {}),
  }
}

let appender: LocalAppender | null = null

const append = async (id: number, inputs: readonly RecordInput[]) => {
  try {
    const { appended, duplicates } = await (appender as LocalAppender).append(inputs)
    // Only what the append added to each record: the caller still holds the inputs. An appended record is
    // the first occurrence of its id in the batch, and they come in batch order.
    const sealed: Sealed[] = []
    for (let i = 0, k = 0; i < inputs.length && k < appended.length; i++) {
      const record = appended[k] as AuditRecord
      if ((inputs[i] as RecordInput).eventId !== record.eventId) continue
      sealed.push([i, record.chain, record.seq, record.prevHash, record.hash])
      k++
    }
    self.postMessage({ type: 'appended', id, sealed, duplicates } satisfies FromWorker)
  } catch (error) {
    self.postMessage({ type: 'failed', id, error: errorData(error) } satisfies FromWorker)
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data
  if (message.type === 'append') void append(message.id, message.inputs)
  else if (message.type === 'open') {
    try {
      appender = openLocalAppender(message.path, message.busyTimeoutMs)
      self.postMessage({ type: 'opened' })
    } catch (error) {
      self.postMessage({ type: 'failed', id: -1, error: errorData(error) })
    }
  } else {
    void appender?.close()
    appender = null
    self.postMessage({ type: 'closed' })
  }
}
