/** Errors a handler throws to say what happens next (BullMQ-style): dead letter now, retry later, or retry. */

/** The entry can never succeed (bad data, a 4xx from a provider): move it to the dead-letter stream now. */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError'
  readonly code: string

  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = options?.code ?? 'NON_RETRYABLE'
  }
}

/** Try again after `delayMs` (a rate limit's `retry-after`, a lock held elsewhere); counts as a delivery. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError'
  readonly code = 'RETRY_LATER'
  readonly delayMs: number

  constructor(message: string, options: { delayMs: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.delayMs = Math.max(0, options.delayMs)
  }
}

/** A handler call that outlived `handlerTimeoutMs`: treated as a failure (retried), so one hung call cannot stall the consumer. */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError'
  readonly code = 'HANDLER_TIMEOUT'
}

/** A failure as it is recorded in a dead letter: a code and a message. */
export interface FailureReason {
  readonly code: string
  readonly message: string
}

/** Turns anything thrown into a `{ code, message }` pair. */
export const reasonOf = (error: unknown): FailureReason => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return {
      code: typeof code === 'string' && code !== '' ? code : error.name || 'Error',
      message: error.message,
    }
  }
  return { code: 'UNKNOWN', message: String(error) }
}

/** Whether a Redis error says the consumer group (or its stream) is gone. */
export const isNoGroupError = (error: unknown): boolean =>
  error instanceof Error && /\bNOGROUP\b/.test(error.message)
