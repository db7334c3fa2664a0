/** "Batch, then one by one": a batch handler that isolates the bad messages when the whole batch fails. */

/** What the fallback needs of a message: its stream id (a `ConsumerMessage` is one). */
export interface StreamMessage {
  readonly streamId: string
}

/** A batch handler over any message with a stream id; with `ConsumerMessage` it is a `BatchHandler`. */
export interface FallbackBatchHandler<M extends StreamMessage> {
  handleBatch(messages: readonly M[]): Promise<Map<string, Error> | undefined>
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))

/**
 * Runs `batch` over every message (one transaction, say). When it throws, runs `one` for each message in
 * order, so one bad message fails alone (retried, then dead-lettered by the consumer) while the others
 * commit; the result maps each failed stream id to its error, or is `undefined` when nothing failed.
 * Both functions must be idempotent on the event id: after a failed batch, `one` sees every message again.
 * @example createConsumer({ ..., handler: withPerMessageFallback((ms) => store.append(ms), (m) => store.append([m])) })
 */
export const withPerMessageFallback = <M extends StreamMessage>(
  batch: (messages: readonly M[]) => Promise<unknown>,
  one: (message: M) => Promise<unknown>,
): FallbackBatchHandler<M> => ({
  async handleBatch(messages) {
    try {
      await batch(messages)
      return undefined
    } catch {
      const failed = new Map<string, Error>()
      for (const message of messages) {
        try {
          await one(message)
        } catch (error) {
          failed.set(message.streamId, asError(error))
        }
      }
      return failed.size > 0 ? failed : undefined
    }
  },
})
