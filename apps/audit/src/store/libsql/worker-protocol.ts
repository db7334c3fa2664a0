/** The messages between the worker appender (worker-append.ts) and its thread (append-worker.ts). */
import type { RecordInput } from '../../records/model.ts'

export type ToWorker =
  | { readonly type: 'open'; readonly path: string; readonly busyTimeoutMs: number }
  | { readonly type: 'append'; readonly id: number; readonly inputs: readonly RecordInput[] }
  | { readonly type: 'close' }

/** An error as data: structured clone keeps neither its class nor its SQLite codes. */
export interface WorkerError {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly extendedCode?: string
  readonly rawCode?: number
}

/** An appended record: its input's position in the batch and what sealing added (chain, seq, prevHash, hash). */
export type Sealed = readonly [index: number, chain: string, seq: number, prevHash: string, hash: string]

export type FromWorker =
  | { readonly type: 'opened' }
  | { readonly type: 'closed' }
  | {
      readonly type: 'appended'
      readonly id: number
      readonly sealed: readonly Sealed[]
      readonly duplicates: readonly string[]
    }
  | { readonly type: 'failed'; readonly id: number; readonly error: WorkerError }
