/** The analytics group takes every event, known or opaque: one transaction per consumer batch. */
import type { BatchHandler, ConsumerMessage } from '@flotilla/streams'
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
    try {
      // Not `onIngested?.(await …)`: an optional call skips evaluating its arguments.
      const result = await ingest.ingestBatch(messages.map((m) => m.event))
      onIngested?.(result)
      return undefined
    } catch {
      const failures = new Map<string, Error>()
      for (const m of messages) {
        try {
          const result = await ingest.ingestBatch([m.event])
          onIngested?.(result)
        } catch (error) {
          failures.set(m.streamId, error instanceof Error ? error : new Error(String(error)))
        }
      }
      return failures.size > 0 ? failures : undefined
    }
  },
})
