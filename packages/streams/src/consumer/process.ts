/** One batch: dead-letter its contract violations, run the handler, then ack / schedule retries / dead-letter. */
import { retryDelayFor } from '../backoff.ts'
import { HandlerTimeoutError, NonRetryableError, RetryLaterError, reasonOf } from '../errors.ts'
import { type DecodedBatch, decodeDeliveries } from './decode.ts'
import type { Delivery } from './replies.ts'
import { callHook, type Runtime } from './runtime.ts'
import { type DeadLetterItem, moveToDeadLetter } from './settle.ts'
import type { ConsumerMessage } from './types.ts'

const toError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)))

const withTimeout = async <T>(work: () => Promise<T> | T, ms: number): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(`handler did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([Promise.resolve().then(work), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs the handler over the messages; resolves to the failures by stream id. */
const runHandler = async (rt: Runtime, messages: readonly ConsumerMessage[]): Promise<Map<string, Error>> => {
  const failures = new Map<string, Error>()
  if (messages.length === 0) return failures
  const base = { stream: rt.stream, group: rt.group }
  const { handler } = rt
  if ('handleBatch' in handler) {
    const started = performance.now()
    try {
      const result = await withTimeout(() => handler.handleBatch(messages), rt.handlerTimeoutMs)
      for (const [id, error] of result ?? []) failures.set(id, toError(error))
    } catch (error) {
      for (const m of messages) failures.set(m.streamId, toError(error))
    }
    const durationMs = performance.now() - started
    callHook(rt, 'onHandlerDuration', {
      ...base,
      durationMs,
      messages: messages.length,
      ok: failures.size === 0,
    })
    return failures
  }
  let next = 0
  const worker = async () => {
    while (next < messages.length) {
      const message = messages[next++] as ConsumerMessage
      const started = performance.now()
      let ok = true
      try {
        await withTimeout(() => handler.handle(message), rt.handlerTimeoutMs)
      } catch (error) {
        ok = false
        failures.set(message.streamId, toError(error))
      }
      const durationMs = performance.now() - started
      callHook(rt, 'onHandlerDuration', { ...base, durationMs, messages: 1, type: message.event.type, ok })
    }
  }
  await Promise.all(Array.from({ length: Math.min(rt.concurrency, messages.length) }, worker))
  return failures
}

/**
 * Moves entries this consumer still owns to the dead-letter stream; on failure they stay pending and come back
 * through the reclaimer. One another consumer claimed meanwhile is left to it, counted as a refused zombie.
 */
export const deadLetter = async (rt: Runtime, dead: readonly DeadLetterItem[]): Promise<void> => {
  if (dead.length === 0) return
  const base = { stream: rt.stream, group: rt.group }
  try {
    const { moved, refused } = await moveToDeadLetter(rt.command(), rt.stream, rt.group, rt.name, dead)
    for (const item of moved) {
      rt.counters.deadLettered++
      callHook(rt, 'onDeadLettered', {
        ...base,
        streamId: item.id,
        type: item.fields?.type ?? '',
        deliveries: item.deliveries,
        code: item.reason.code,
        message: item.reason.message,
      })
    }
    // Moved, refused or no longer pending: none of them is this consumer's to retry any more.
    for (const item of dead) {
      rt.retryAt.delete(item.id)
      rt.lastErrors.delete(item.id)
    }
    if (refused.length > 0) {
      rt.counters.zombieAcksRefused += refused.length
      callHook(rt, 'onZombieAckRefused', { ...base, streamIds: refused })
    }
    if (moved.length > 0)
      rt.logger.warn(
        { ...base, ids: moved.map((d) => d.id), reasons: moved.map((d) => d.reason) },
        'moved entries to the dead-letter stream',
      )
  } catch (error) {
    // They stay pending and come back through the reclaimer; nothing is lost.
    rt.counters.lastError = reasonOf(error).message
    rt.logger.error({ err: error, ...base }, 'dead-letter move failed')
  }
}

/**
 * Settles a decoded batch: dead-letters its contract violations, runs the handler, then acks, schedules retries
 * and dead-letters failures. Run it exclusively (one batch at a time); the caller releases the batch's in-flight
 * marks after.
 */
export const settleBatch = async (rt: Runtime, batch: DecodedBatch): Promise<void> => {
  const base = { stream: rt.stream, group: rt.group }
  const acks: string[] = []
  for (const id of batch.deleted) {
    acks.push(id)
    rt.counters.deletedEntries++
    callHook(rt, 'onDeletedEntry', { ...base, streamId: id })
  }
  for (const id of batch.skipped) {
    acks.push(id)
    rt.counters.skippedReplays++
  }
  // Contract violations go to the dead-letter stream before the handler runs: a batch-mate that kills the
  // process must not send them round again (they would reach the dead letters with a climbing count).
  await deadLetter(rt, batch.invalid)
  const { messages, records } = batch
  rt.handling = true
  let failures: Map<string, Error>
  try {
    failures = await runHandler(rt, messages)
  } finally {
    rt.handling = false
  }
  const dead: DeadLetterItem[] = []
  const now = Date.now()
  const onProcessed = rt.hooks.onProcessed
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ConsumerMessage
    const error = failures.size === 0 ? undefined : failures.get(m.streamId)
    if (!error) {
      acks.push(m.streamId)
      rt.counters.processed++
      // The hook's argument is built only when someone listens (one object per entry otherwise).
      if (onProcessed)
        callHook(rt, 'onProcessed', {
          ...base,
          streamId: m.streamId,
          type: m.event.type,
          deliveryCount: m.deliveryCount,
        })
      continue
    }
    const info = { ...base, streamId: m.streamId, type: m.event.type, deliveryCount: m.deliveryCount }
    rt.counters.failed++
    callHook(rt, 'onFailed', { ...info, error })
    const reason = reasonOf(error)
    if (error instanceof NonRetryableError || m.deliveryCount >= rt.maxDeliveries) {
      dead.push({
        id: m.streamId,
        fields: records[i] ?? null,
        deliveries: m.deliveryCount,
        reason,
      })
      continue
    }
    // Left pending: the reclaimer delivers it again once the delay has passed.
    const delayMs =
      error instanceof RetryLaterError
        ? error.delayMs
        : retryDelayFor(m.streamId, m.deliveryCount, rt.backoff)
    rt.retryAt.set(m.streamId, now + delayMs)
    rt.lastErrors.set(m.streamId, reason)
    rt.counters.retried++
    callHook(rt, 'onRetried', { ...info, delayMs })
  }

  await deadLetter(rt, dead)

  // Only an entry that failed before has anything to forget (both maps are usually empty).
  if (rt.retryAt.size > 0 || rt.lastErrors.size > 0)
    for (const id of acks) {
      rt.retryAt.delete(id)
      rt.lastErrors.delete(id)
    }
  rt.acker.add(acks)
  await flushAcks(rt)
}

/** Processes delivered entries (already marked in flight one by one) and settles every one of them before returning. */
export const processBatch = async (rt: Runtime, deliveries: readonly Delivery[]): Promise<void> => {
  try {
    await settleBatch(rt, decodeDeliveries(rt.group, deliveries))
  } finally {
    for (const d of deliveries) rt.inFlight.delete(d.id)
  }
}

/** Sends buffered acks; a failure keeps them buffered for the next flush (the entries stay pending meanwhile). */
export const flushAcks = async (rt: Runtime): Promise<void> => {
  try {
    const refused = await rt.acker.flush()
    if (refused.length > 0) {
      rt.counters.zombieAcksRefused += refused.length
      callHook(rt, 'onZombieAckRefused', { stream: rt.stream, group: rt.group, streamIds: refused })
      rt.logger.warn(
        { stream: rt.stream, group: rt.group, ids: refused },
        'ack refused: another consumer claimed these entries meanwhile',
      )
    }
  } catch (error) {
    rt.counters.lastError = reasonOf(error).message
    rt.logger.error({ err: error, stream: rt.stream, group: rt.group }, 'ack failed; will retry')
  }
}
