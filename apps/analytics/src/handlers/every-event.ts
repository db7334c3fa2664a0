/** The analytics group takes every event, known or opaque: one transaction per consumer batch. */
import { type BatchHandler, type ConsumerMessage, withPerMessageFallback } from '@flotilla/streams'
import type { Ingest, IngestResult } from '../ingest/service.ts'

/**
 * Counts a batch in one transaction. If the batch fails, each event is retried alone so one bad event
 * fails (and is eventually dead-lettered) by itself while the rest are counted. Consumer spans come from the
 * runner, which wraps every subscription's handler.
 */
export const createEveryEventHandler = ({
  ingest,
  onIngested,
}: {
  ingest: Ingest
  /** Called after each committed batch (metrics). */
  onIngested?: (result: IngestResult) => void
}): BatchHandler => ({
  handleBatch: (messages: readonly ConsumerMessage[]) => countBatch(ingest, messages, onIngested),
})

const countBatch = (
  ingest: Ingest,
  messages: readonly ConsumerMessage[],
  onIngested: ((result: IngestResult) => void) | undefined,
): Promise<Map<string, Error> | undefined> => {
  const count = async (events: ConsumerMessage['event'][]) => {
    // Not `onIngested?.(await …)`: an optional call skips evaluating its arguments.
    const result = await ingest.ingestBatch(events)
    onIngested?.(result)
  }
  return withPerMessageFallback<ConsumerMessage>(
    (batch) => count(batch.map((m) => m.event)),
    (m) => count([m.event]),
  ).handleBatch(messages)
}
