/** The audit consumer: group `audit` on the events stream, every event (known or opaque), one transaction per batch. */
import { type Consumer, createConsumer, type StreamHooks, type StreamLogger } from '@flotilla/streams'
import { traceBatchHandler } from '@flotilla/telemetry'
import { createRecordEventHandler } from '../handlers/record-event.ts'
import type { AuditStore } from '../store/types.ts'

export const AUDIT_GROUP = 'audit'

export interface AuditConsumerOptions {
  readonly redisUrl: string
  readonly stream: string
  readonly store: AuditStore
  readonly consumerName?: string
  /** Events per batch (= per store transaction). @defaultValue 200 */
  readonly batchSize?: number
  /** Entries a dead consumer left pending are taken over after this idle time. @defaultValue 30000 */
  readonly claimIdleMs?: number
  readonly blockMs?: number
  readonly maxDeliveries?: number
  readonly hooks?: StreamHooks
  readonly logger?: StreamLogger
  readonly onAppended?: (appended: number, duplicates: number) => void
}

/** Creates (does not start) the audit consumer. */
export const createAuditConsumer = (o: AuditConsumerOptions): Consumer =>
  createConsumer({
    redisUrl: o.redisUrl,
    stream: o.stream,
    group: AUDIT_GROUP,
    handler: traceBatchHandler(
      createRecordEventHandler({
        store: o.store,
        ...(o.onAppended ? { onAppended: o.onAppended } : {}),
      }),
    ),
    batchSize: o.batchSize ?? 200,
    ...(o.consumerName ? { consumerName: o.consumerName } : {}),
    ...(o.claimIdleMs !== undefined ? { claimIdleMs: o.claimIdleMs } : {}),
    ...(o.blockMs !== undefined ? { blockMs: o.blockMs } : {}),
    ...(o.maxDeliveries !== undefined ? { maxDeliveries: o.maxDeliveries } : {}),
    ...(o.hooks ? { hooks: o.hooks } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  })
