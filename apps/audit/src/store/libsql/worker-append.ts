/**
 * The local file's append on a worker thread: the same append as local-append.ts (chain-head read, hashing,
 * INSERT, COMMIT on its own `libsql` connection), run by append-worker.ts so the synchronous driver blocks that
 * thread instead of the one reading the stream. A batch's promise settles only when the worker reports its
 * COMMIT (or its failure), so nothing is acked before it is on disk.
 */
import { LibsqlError } from '@libsql/client'
import type { AuditRecord, RecordInput } from '../../records/model.ts'
import type { AppendResult } from '../types.ts'
import type { LocalAppender } from './local-append.ts'
import type { FromWorker, ToWorker, WorkerError } from './worker-protocol.ts'

const WORKER_URL = new URL('./append-worker.ts', import.meta.url).href

/** Bun's Worker: `unref` lets the process exit while the worker idles, `ref` holds it while a batch is out. */
type BunWorker = Worker & { ref(): void; unref(): void }

/** The worker ended while batches were in flight; each of them may or may not have committed. */
export class AppendWorkerExitedError extends Error {
  readonly code = 'APPEND_WORKER_EXITED'
}

/** The error the worker reported, rebuilt with the class and codes the callers test for. */
const rebuild = (e: WorkerError): Error => {
  if (e.name === 'LibsqlError' && e.code !== undefined) {
    const prefix = `${e.code}: `
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message
    return new LibsqlError(message, e.code, e.extendedCode, e.rawCode)
  }
  const error = e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message)
  if (error.name !== e.name) error.name = e.name
  return error
}

export interface WorkerAppenderOptions {
  /** The worker's entry file (tests give one that fails on purpose). @defaultValue append-worker.ts */
  readonly workerUrl?: string
}

interface Pending {
  readonly inputs: readonly RecordInput[]
  readonly resolve: (result: AppendResult) => void
  readonly reject: (error: Error) => void
}

/** A started worker with its database open, and how to talk to it. */
interface Running {
  readonly worker: BunWorker
  /** Settles once the worker has exited. */
  readonly exited: Promise<void>
}

/**
 * Starts the append worker on the file at `path` (already migrated) and waits until its connection is open.
 * A worker that dies fails the batches in flight with {@link AppendWorkerExitedError} (the consumer retries
 * them: a batch that did commit then finds its ids recorded) and is started again by the next append.
 */
export const openWorkerAppender = async (
  path: string,
  busyTimeoutMs: number,
  { workerUrl = WORKER_URL }: WorkerAppenderOptions = {},
): Promise<LocalAppender> => {
  const pending = new Map<number, Pending>()
  let nextId = 0
  // The current worker (starting or open); null once it ended, until the next append starts another.
  let running: Promise<Running> | null = null

  const settle = (worker: BunWorker, id: number): Pending | undefined => {
    const p = pending.get(id)
    pending.delete(id)
    if (pending.size === 0) worker.unref()
    return p
  }

  const start = (): Promise<Running> => {
    const worker = new Worker(workerUrl) as BunWorker
    let markExited = () => {}
    const exited = new Promise<void>((resolve) => {
      markExited = resolve
    })
    const started = new Promise<Running>((resolve, reject) => {
      let opened = false
      let ended = false
      const gone = (reason: string) => {
        if (ended) return
        ended = true
        // Only this worker's own end: a newer one may already be running.
        if (running === started) running = null
        markExited()
        const error = new AppendWorkerExitedError(`the audit append worker ${reason}`)
        if (!opened) reject(error)
        for (const p of pending.values()) p.reject(error)
        pending.clear()
      }
      worker.addEventListener('error', (event) => {
        gone(`failed: ${(event as ErrorEvent).message}`)
        worker.terminate()
      })
      worker.addEventListener('close', () => gone('exited'))
      worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
        const message = event.data
        if (message.type === 'opened') {
          opened = true
          worker.unref()
          resolve({ worker, exited })
        } else if (message.type === 'appended') {
          const p = settle(worker, message.id)
          const inputs = p?.inputs ?? []
          const appended: AuditRecord[] = message.sealed.map(([index, chain, seq, prevHash, hash]) => ({
            ...(inputs[index] as RecordInput),
            chain,
            seq,
            prevHash,
            hash,
          }))
          p?.resolve({ appended, duplicates: [...message.duplicates] })
        } else if (message.type === 'failed') {
          if (message.id >= 0) settle(worker, message.id)?.reject(rebuild(message.error))
          else {
            // The connection could not open: the worker is of no use.
            reject(rebuild(message.error))
            worker.terminate()
          }
        }
      })
      worker.postMessage({ type: 'open', path, busyTimeoutMs } satisfies ToWorker)
    })
    return started
  }

  const ensure = (): Promise<Running> => {
    if (running === null) {
      const started = start()
      running = started
      // A worker that could not open is not kept: the next append starts another.
      started.catch(() => {
        if (running === started) running = null
      })
    }
    return running
  }

  await ensure()
  const inFlight = new Set<Promise<unknown>>()
  let closing: Promise<void> | null = null

  return {
    append(inputs) {
      if (closing) return Promise.reject(new LibsqlError('The client is closed', 'CLIENT_CLOSED'))
      const result = (async () => {
        const { worker } = await ensure()
        const id = nextId++
        return new Promise<AppendResult>((resolve, reject) => {
          pending.set(id, { inputs, resolve, reject })
          worker.ref()
          try {
            worker.postMessage({ type: 'append', id, inputs } satisfies ToWorker)
          } catch (error) {
            // A value structured clone refuses (a function in a payload): nothing was sent.
            settle(worker, id)
            reject(error as Error)
          }
        })
      })()
      // Tracked from the start, so a close waits for it even while it waits for a worker to start.
      const settled = result.then(
        () => {},
        () => {},
      )
      inFlight.add(settled)
      void settled.then(() => inFlight.delete(settled))
      return result
    },

    get cachedStatements() {
      return 0
    },

    close() {
      closing ??= (async () => {
        // Batches in flight finish first: the worker's connection is closed only between transactions.
        await Promise.all(inFlight)
        const live = running
        running = null
        const started = live === null ? null : await live.catch(() => null)
        if (started === null) return
        const closed = new Promise<void>((resolve) => {
          started.worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
            if (event.data.type === 'closed') resolve()
          })
        })
        started.worker.postMessage({ type: 'close' } satisfies ToWorker)
        await Promise.race([closed, started.exited])
        started.worker.terminate()
        await started.exited
      })()
      return closing
    },
  }
}
