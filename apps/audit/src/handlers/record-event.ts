/** Handler for every event on the stream (known or opaque): one audit record each, one transaction per batch. */
import type { AnyEvent } from '@flotilla/contracts'
import { NonRetryableError, withPerMessageFallback } from '@flotilla/streams'
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
 * that one bad event fails (and is eventually dead-lettered) without holding back the others; an event that
 * can never be hashed is dead-lettered at once. Idempotent on the envelope id: redelivered events are skipped
 * by the store.
 */
export const createRecordEventHandler = (deps: RecordEventDeps) => {
  const now = deps.now ?? (() => new Date())
  const append = async (messages: readonly IngestMessage[], receivedAt: string) => {
    const { appended, duplicates } = await deps.store.append(
      messages.map((m) => recordInputOf(m.event, receivedAt)),
    )
    deps.onAppended?.(appended.length, duplicates.length)
  }
  return {
    handleBatch(messages: readonly IngestMessage[]): Promise<Map<string, Error> | undefined> {
      const receivedAt = now().toISOString()
      return withPerMessageFallback<IngestMessage>(
        (batch) => append(batch, receivedAt),
        async (m) => {
          const unhashable = unhashableReason(m.event)
          if (unhashable) throw new NonRetryableError(unhashable, { code: 'UNHASHABLE_EVENT' })
          await append([m], receivedAt)
        },
      ).handleBatch(messages)
    },
  }
}
