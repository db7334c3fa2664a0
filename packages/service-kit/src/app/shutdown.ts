/** Graceful shutdown: SIGTERM and SIGINT (Fly's default) lead to one close, then exit. */
import type { Logger } from 'pino'

export interface ShutdownOptions {
  readonly logger: Pick<Logger, 'info' | 'error'>
  /** Exit with code 1 when close takes longer. @defaultValue 10000 */
  readonly timeoutMs?: number
  /** @defaultValue ['SIGTERM', 'SIGINT'] */
  readonly signals?: readonly NodeJS.Signals[]
  /** How to exit (tests pass their own). @defaultValue process.exit */
  readonly exit?: (code: number) => void
}

export interface ShutdownHandle {
  /** Starts the shutdown (as a signal would); every call returns the same promise. */
  shutdown(reason?: string): Promise<void>
  /** Removes the signal listeners. */
  dispose(): void
}

/**
 * Wires the signals to `close`, run once however many signals arrive, bounded by `timeoutMs`; then
 * exits with 0, or 1 when close failed or timed out.
 * @example onShutdown(() => app.close(), { logger })
 */
export const onShutdown = (close: () => Promise<void> | void, options: ShutdownOptions): ShutdownHandle => {
  const {
    logger,
    timeoutMs = 10_000,
    signals = ['SIGTERM', 'SIGINT'],
    exit = (code) => process.exit(code),
  } = options
  let closing: Promise<void> | undefined
  const shutdown = (reason = 'shutdown requested') => {
    closing ??= (async () => {
      logger.info({ reason, timeoutMs }, 'shutting down')
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs)
      })
      let code = 0
      try {
        const outcome = await Promise.race([Promise.resolve(close()).then(() => 'closed' as const), timeout])
        if (outcome === 'timeout') {
          logger.error({ timeoutMs }, 'close did not finish in time')
          code = 1
        } else logger.info('closed')
      } catch (error) {
        logger.error({ err: error }, 'close failed')
        code = 1
      } finally {
        clearTimeout(timer)
      }
      exit(code)
    })()
    return closing
  }
  const handlers = signals.map((signal) => {
    const handler = () => void shutdown(signal)
    process.on(signal, handler)
    return [signal, handler] as const
  })
  return {
    shutdown,
    dispose: () => {
      for (const [signal, handler] of handlers) process.off(signal, handler)
    },
  }
}

/** One cleanup step of `closeAll`. */
export type CloseStep = readonly [name: string, close: () => Promise<unknown> | unknown]

/**
 * Builds an idempotent `close()` that runs each step in order, catching and logging each failure so one
 * broken step never skips the rest. Every call returns the same promise.
 * @example const close = closeAll([['consumer', () => consumer.close()], ['redis', () => redis.quit()]], logger)
 */
export const closeAll = (
  steps: readonly CloseStep[],
  logger: Pick<Logger, 'error'>,
): (() => Promise<void>) => {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= (async () => {
      for (const [name, step] of steps) {
        try {
          await step()
        } catch (error) {
          logger.error({ err: error, step: name }, 'close step failed')
        }
      }
    })()
    return closing
  }
}
