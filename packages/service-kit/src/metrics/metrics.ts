/** Prometheus metrics for one service: process defaults, the HTTP histogram, consumer counters, group gauges. */
import type { GroupStats, StreamHooks } from '@flotilla/streams'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom.ts'

/** Per-group numbers read at scrape time (a subset of streams' `GroupStats`). */
export type GroupSnapshot = Pick<GroupStats, 'group' | 'lag' | 'pending' | 'deadLetters'>

export interface ObserveRequest {
  readonly method: string
  /** The route pattern (`/v1/sessions/:id`), never the raw path: ids would explode the label set. */
  readonly route: string
  readonly status: number
  readonly seconds: number
}

export interface Metrics {
  readonly registry: Registry
  /** Records one HTTP request in `http_request_duration_seconds`. */
  observeRequest(request: ObserveRequest): void
  /** The hook object for `createConsumer({ hooks })` of one group. */
  streamHooks(group: string): StreamHooks
  /**
   * What a handler map of one group passed over: unknown types (`stream_events_unknown_type_total`, by group:
   * any producer can invent a type) and unsupported versions (`stream_events_unsupported_version_total`).
   */
  handlerMapObserver(group: string): {
    unknownType(type: string): void
    unsupportedVersion(type: string, version: number, handles: number): void
  }
  /**
   * Registers the callback that reads lag, pending and dead-letter length per group at each scrape
   * (usually `() => readGroupStats({ redis, stream })`). Calling it again replaces the callback.
   */
  trackGroups(read: () => Promise<readonly GroupSnapshot[]>): void
  /** The exposition text for `GET /metrics`. */
  text(): Promise<string>
  readonly contentType: string
}

/** Buckets in seconds: most requests here are milliseconds; anything past 5 s is an incident. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const MAX_HTTP_CHILDREN = 1000
const HANDLER_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60]

/**
 * Creates the registry of one service with default process metrics labelled `service`.
 * @example const metrics = createMetrics('audit'); createConsumer({ ..., hooks: metrics.streamHooks('audit') })
 */
export const createMetrics = (service: string): Metrics => {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  collectDefaultMetrics(registry)

  const http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  })
  const httpChildren = new Map<string, { observe(value: number): void }>()
  const counter = (name: string, help: string, labelNames: readonly string[] = ['group', 'type']) =>
    new Counter({ name, help, labelNames, registers: [registry] })
  const processed = counter('stream_events_processed_total', 'Events a handler processed successfully')
  const failed = counter('stream_events_failed_total', 'Handler failures (each failed delivery)')
  const retried = counter('stream_events_retried_total', 'Failed events left pending for another delivery')
  const deadLettered = counter(
    'stream_events_dead_lettered_total',
    'Entries moved to the dead-letter stream',
    ['group', 'type', 'code'],
  )
  const deleted = counter(
    'stream_entries_deleted_total',
    'Pending entries found deleted (trimmed) and acked',
    ['group'],
  )
  const zombie = counter(
    'stream_acks_refused_total',
    'Acks refused because another consumer owns the entry',
    ['group'],
  )
  const unknownType = counter(
    'stream_events_unknown_type_total',
    'Events of a type the catalogue does not know, acked and ignored by a typed consumer',
    ['group'],
  )
  const unsupportedVersion = counter(
    'stream_events_unsupported_version_total',
    'Events of a handled type at a version the handler cannot get to (newer, or no upcaster): dead-lettered',
  )
  const handlerSeconds = new Histogram({
    name: 'stream_handler_duration_seconds',
    help: 'Time spent in a handler per event (or per batch for batch handlers)',
    labelNames: ['group', 'outcome'] as const,
    buckets: HANDLER_BUCKETS,
    registers: [registry],
  })

  let readGroups: (() => Promise<readonly GroupSnapshot[]>) | undefined
  // `text()` reads the groups once for the three gauges; a direct `registry.metrics()` reads per gauge.
  let scrapeSnapshot: Promise<readonly GroupSnapshot[]> | undefined
  const readNow = (): Promise<readonly GroupSnapshot[]> => (readGroups ? readGroups() : Promise.resolve([]))
  const currentSnapshot = () => scrapeSnapshot ?? readNow()
  const groupGauge = (name: string, help: string, pick: (s: GroupSnapshot) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['group'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        const groups = await currentSnapshot().catch(() => [] as readonly GroupSnapshot[])
        for (const g of groups) {
          const value = pick(g)
          if (value !== null) this.set({ group: g.group }, value)
        }
      },
    })
  groupGauge('stream_group_lag', 'Entries not yet delivered to the group', (g) => g.lag)
  groupGauge('stream_group_pending', 'Entries delivered to the group and not yet acked', (g) => g.pending)
  groupGauge('stream_dead_letters', 'Entries on the dead-letter stream of the group', (g) => g.deadLetters)

  return {
    registry,
    contentType: registry.contentType,
    observeRequest: ({ method, route, status, seconds }) => {
      // One child per label set, made once: prom-client checks and copies the labels on every `observe`.
      const key = `${method} ${status} ${route}`
      let child = httpChildren.get(key)
      if (!child) {
        child = http.labels({ method, route, status: String(status) })
        // Bounded: a client can invent methods; past the bound, label sets are checked on each call again.
        if (httpChildren.size < MAX_HTTP_CHILDREN) httpChildren.set(key, child)
      }
      child.observe(seconds)
    },
    streamHooks: (group) => ({
      onProcessed: ({ type }) => processed.inc({ group, type }),
      onFailed: ({ type }) => failed.inc({ group, type }),
      onRetried: ({ type }) => retried.inc({ group, type }),
      onDeadLettered: ({ type, code }) => deadLettered.inc({ group, type: type || 'unknown', code }),
      onHandlerDuration: ({ durationMs, ok }) =>
        handlerSeconds.observe({ group, outcome: ok ? 'ok' : 'error' }, durationMs / 1000),
      onDeletedEntry: () => deleted.inc({ group }),
      onZombieAckRefused: ({ streamIds }) => zombie.inc({ group }, streamIds.length),
    }),
    handlerMapObserver: (group) => ({
      unknownType: () => unknownType.inc({ group }),
      unsupportedVersion: (type) => unsupportedVersion.inc({ group, type }),
    }),
    trackGroups: (read) => {
      readGroups = read
    },
    async text() {
      const snapshot = readNow()
      snapshot.catch(() => {})
      scrapeSnapshot = snapshot
      try {
        return await registry.metrics()
      } finally {
        if (scrapeSnapshot === snapshot) scrapeSnapshot = undefined
      }
    },
  }
}
