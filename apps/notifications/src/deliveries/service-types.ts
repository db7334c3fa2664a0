/** The delivery service's dependencies and what one pass over a delivery comes to (shared by its pieces). */
import type { TransportChains } from '../channels/index.ts'
import type { SendResult } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { RateLimiter } from '../rate-limit/limiter.ts'
import type { DeliveryBatchStore } from './batch-store.ts'
import type { DeliveryStatus } from './model.ts'
import type { EventSink } from './outcome-events.ts'
import type { DeliveryStore, Failure } from './store.ts'

/** What became of one delivery in this pass, with the row as this pass last read or wrote it. */
export type DeliveryOutcome = { readonly row: DeliveryRow } & (
  | { readonly kind: 'settled'; readonly status: DeliveryStatus }
  | { readonly kind: 'retry'; readonly delayMs?: number; readonly failure: Failure }
  | { readonly kind: 'dead'; readonly failure: Failure }
)

/** A provider's circuit: how many consecutive transient failures open it, and for how long it stays open. */
export interface CircuitSettings {
  readonly failures: number
  readonly openMs: number
}

export interface DeliveryLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface DeliveryServiceDeps {
  readonly store: DeliveryStore
  /** The same log's batch statements (`deliverBatch`). */
  readonly batchStore: DeliveryBatchStore
  /** Ordered providers per channel: the next takes over when one is down. */
  readonly transports: TransportChains
  /** When a provider's circuit opens and for how long. @defaultValue 5 failures, 30 s */
  readonly circuit?: CircuitSettings
  readonly limiter: RateLimiter
  readonly events: EventSink
  /** How long a claim lasts; must exceed the longest send (the transport timeout). */
  readonly leaseMs: number
  readonly logger?: DeliveryLogger
  /** Called once per settled attempt (metrics). */
  readonly onAttempt?: (info: { channel: string; provider: string; outcome: string }) => void
}

/** A provider's answer to one send: what it accepted, or why not. */
export type SendOutcome = { readonly ok: SendResult } | { readonly error: unknown }
