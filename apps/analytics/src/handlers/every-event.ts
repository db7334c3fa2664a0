/** The analytics group takes every event, known or opaque: one transaction per consumer batch. */
import { type BatchHandler, type ConsumerMessage, withPerMessageFallback } from '@flotilla/streams'
import { startConsumerSpan } from '@flotilla/telemetry'
import type { Ingest, IngestResult } from '../ingest/service.ts'

/**
 * Counts a batch in one transaction. If the batch fails, each event is retried alone so one bad event
 * fails (and is eventually dead-lettered) by itself while the rest are counted.
 */
export const createEveryEventHandler = ({
  ingest,
  onIngested,
}: {
  ingest: Ingest
  /** Called after each committed batch (metrics). */
  onIngested?: (result: IngestResult) => void
}): BatchHandler => ({
  async handleBatch(messages: readonly ConsumerMessage[]) {
    // One consumer span per event, continuing the producer's trace; they end with the batch.
    const spans = messages.map((m) =>
      startConsumerSpan(m.event, { group: m.group, streamId: m.streamId, deliveryCount: m.deliveryCount }),
    )
    let failures: Map<string, Error> | undefined
    try {
      failures = await countBatch(ingest, messages, onIngested)
      return failures
    } finally {
      for (const [i, m] of messages.entries()) spans[i]?.end(failures?.get(m.streamId))
    }
  },
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
