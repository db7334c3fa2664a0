/** Builds the domain from its dependencies: stores over libSQL, the template registry, transports, limiter, dispatcher. */
import type { RedisClient } from '@flotilla/streams'
import type { TransportChains } from './channels/index.ts'
import { createContactStore } from './contacts/store.ts'
import type { Database } from './db/client.ts'
import { createDeliveryBatchStore } from './deliveries/batch-store.ts'
import type { EventSink } from './deliveries/outcome-events.ts'
import { createDeliveryService } from './deliveries/service.ts'
import type { CircuitSettings, DeliveryLogger } from './deliveries/service-types.ts'
import { createDeliveryStore } from './deliveries/store.ts'
import { createDispatcher } from './dispatch/dispatcher.ts'
import type { NotificationHandlerDeps } from './handlers/index.ts'
import { createOutboxStore } from './outbox/store.ts'
import { createPreferenceStore } from './preferences/store.ts'
import { createRateLimiter } from './rate-limit/limiter.ts'
import { SHIPPED_TEMPLATES } from './templates/catalog/index.ts'
import type { TemplateDefinition } from './templates/model.ts'
import { createTemplateRegistry } from './templates/registry.ts'
import { cancelWaiting } from './workflows/cancel.ts'
import { createDigests } from './workflows/digest.ts'
import { createDuePoller } from './workflows/poller.ts'
import { createThrottle, type ThrottleLimit } from './workflows/throttle.ts'

/** The domain's settings (from `config.ts`, or from a test). */
export interface Settings {
  readonly redisPrefix: string
  readonly defaultLocale: string
  /** Globals every template sees as `app.name` / `app.url`. */
  readonly app: { readonly name: string; readonly url: string }
  /** The consumer's `maxDeliveries`: retries of transient failures are bounded by it. */
  readonly maxDeliveries: number
  readonly providerTimeoutMs: number
  readonly rateLimitMaxWaitMs: number
  /** Provider circuits: consecutive transient failures that open one, and how long it stays open. */
  readonly circuit: CircuitSettings
  /**
   * The due-time poller: how often it runs, its retry backoff, and how long a delivery it settled may owe its
   * outcome event before a run publishes it (a failed publish; default 30 s).
   */
  readonly poller: {
    readonly everyMs: number
    readonly retryBaseMs: number
    readonly retryMaxMs: number
    readonly owedAfterMs?: number
  }
  /** Replaces every template's digest window (ms). */
  readonly digestWindowMs?: number
  /** Limits per category (per recipient); a category not listed is not throttled. */
  readonly throttle: Readonly<Record<string, ThrottleLimit>>
  /** Requests per second per provider (`resend`, `twilio`, `web-push`). */
  readonly rateLimits: Readonly<Record<string, number>>
  /** Svix signing secret of Resend webhooks (`whsec_…`); unset: the webhook route refuses everything. */
  readonly webhookSecret?: string
}

export interface CoreDeps {
  readonly database: Database
  readonly redis: RedisClient
  readonly settings: Settings
  readonly transports: TransportChains
  readonly events: EventSink
  readonly logger?: DeliveryLogger
  /** @defaultValue SHIPPED_TEMPLATES */
  readonly templates?: readonly TemplateDefinition[]
  /** Told every attempt's outcome (sent, retry, failover, dead, failed): metrics. */
  readonly onAttempt?: (info: { channel: string; provider: string; outcome: string }) => void
  /** How long owed published markers wait for a write transaction (tests lengthen it). @defaultValue 100 */
  readonly markerDelayMs?: number
  /** Told each delivery recorded in a workflow status (throttled, scheduled, held, digested, cancelled): metrics. */
  readonly onStatus?: (info: { channel: string; status: string }) => void
}

/** Everything the routes and the consumer use. */
export const buildCore = (deps: CoreDeps) => {
  const { database, settings } = deps
  const { db } = database
  const registry = createTemplateRegistry({
    templates: deps.templates ?? SHIPPED_TEMPLATES,
    defaultLocale: settings.defaultLocale,
    globals: { app: settings.app },
    // The shipped templates are checked at start by templates.test.ts; templates given here, by this start.
    parse: deps.templates ? 'start' : 'first-use',
  })
  const contacts = createContactStore(db)
  const preferences = createPreferenceStore(db)
  const deliveries = createDeliveryStore(db)
  const outbox = createOutboxStore(db)
  const limiter = createRateLimiter({
    redis: deps.redis,
    prefix: settings.redisPrefix,
    limits: settings.rateLimits,
    maxWaitMs: settings.rateLimitMaxWaitMs,
  })
  const batchStore = createDeliveryBatchStore(
    db,
    deps.markerDelayMs === undefined ? {} : { markerDelayMs: deps.markerDelayMs },
  )
  const service = createDeliveryService({
    store: deliveries,
    batchStore,
    transports: deps.transports,
    circuit: settings.circuit,
    limiter,
    events: deps.events,
    // A claim outlives the longest send (timeout) with room for the bookkeeping around it.
    leaseMs: settings.providerTimeoutMs * 2 + 1000,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.onAttempt ? { onAttempt: deps.onAttempt } : {}),
  })
  const digests = createDigests({
    store: deliveries,
    registry,
    contacts,
    ...(settings.digestWindowMs === undefined ? {} : { windowMs: settings.digestWindowMs }),
  })
  const throttle = createThrottle({
    redis: deps.redis,
    prefix: settings.redisPrefix,
    limits: settings.throttle,
  })
  const dispatcher = createDispatcher({
    registry,
    contacts,
    preferences,
    deliveries,
    batchStore,
    service,
    throttle,
    digests,
    ...(deps.onStatus ? { onStatus: deps.onStatus } : {}),
  })
  const poller = createDuePoller({
    before: (now) => digests.flush(now),
    store: deliveries,
    service,
    maxAttempts: settings.maxDeliveries,
    retryBaseMs: settings.poller.retryBaseMs,
    retryMaxMs: settings.poller.retryMaxMs,
    ...(settings.poller.owedAfterMs === undefined ? {} : { owedAfterMs: settings.poller.owedAfterMs }),
  })
  /** Cancels what the request with this idempotency key has not sent yet (counted per channel). */
  const cancelInStore = cancelWaiting((requestKey) => deliveries.cancel(requestKey))
  const cancel = async (requestKey: string) => {
    const result = await cancelInStore(requestKey)
    for (const row of result.cancelled) deps.onStatus?.({ channel: row.channel, status: 'cancelled' })
    return result
  }
  const handlerDeps: NotificationHandlerDeps = {
    contacts,
    dispatcher,
    maxDeliveries: settings.maxDeliveries,
  }
  return {
    database,
    settings,
    registry,
    contacts,
    preferences,
    deliveries,
    batchStore,
    outbox,
    limiter,
    service,
    dispatcher,
    poller,
    cancel,
    handlerDeps,
    transports: deps.transports,
    events: deps.events,
  }
}

export type Core = ReturnType<typeof buildCore>
