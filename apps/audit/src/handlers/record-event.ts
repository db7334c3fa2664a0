/** Handler for every event on the stream (known or opaque): one audit record each, one transaction per batch. */
import type { AnyEvent } from '@flotilla/contracts'
import { NonRetryableError } from '@flotilla/streams'
import canonicalize from 'canonicalize'
import { recordInputOf } from '../records/from-event.ts'
import type { AuditStore } from '../store/types.ts'

/**
 * Why an event can never be hashed (RFC 8785 has no NaN or Infinity; `1e999` in JSON parses to Infinity),
 * or undefined. Such an event goes to the dead letters at once instead of being retried.
 */
const unhashableReason = (event: AnyEvent): string | undefined => {
  try {
    canonicalize(event.payload)
    return undefined
  } catch (error) {
    return `payload cannot be canonicalized: ${(error as Error).message}`
  }
}

/** What the handler needs of a stream message (the streams runtime passes more). */
export interface IngestMessage {
  readonly streamId: string
  readonly event: AnyEvent
}

export interface RecordEventDeps {
  readonly store: AuditStore
  /** @defaultValue () => new Date() */
  readonly now?: () => Date
  /** Told how many records a batch appended and how many events were already recorded. */
  readonly onAppended?: (appended: number, duplicates: number) => void
}

/**
 * Appends a batch in one store transaction. If the batch fails as a whole, each message is retried alone so
 * that one bad event fails (and is eventually dead-lettered) without holding back the others.
 * Idempotent on the envelope id: redelivered events are skipped by the store.
 */
export const createRecordEventHandler = (deps: RecordEventDeps) => {
  const now = deps.now ?? (() => new Date())
  return {
    async handleBatch(messages: readonly IngestMessage[]): Promise<Map<string, Error> | undefined> {
      const receivedAt = now()
      try {
        const { appended, duplicates } = await deps.store.append(
          messages.map((m) => recordInputOf(m.event, receivedAt)),
        )
        deps.onAppended?.(appended.length, duplicates.length)
        return undefined
      } catch {
        const failed = new Map<string, Error>()
        for (const m of messages) {
          const unhashable = unhashableReason(m.event)
          if (unhashable) {
            failed.set(m.streamId, new NonRetryableError(unhashable, { code: 'UNHASHABLE_EVENT' }))
            continue
          }
          try {
            const { appended, duplicates } = await deps.store.append([recordInputOf(m.event, receivedAt)])
            deps.onAppended?.(appended.length, duplicates.length)
          } catch (error) {
            failed.set(m.streamId, error instanceof Error ? error : new Error(String(error)))
          }
        }
        return failed.size > 0 ? failed : undefined
      }
    },
  }
}
