/** The public HTTP calls the flows make, one helper per question a user would ask. */
import { type AnyEvent, decodeEntry } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { call, type JsonResponse } from './http.ts'
import type { Stack } from './stack.ts'

export interface AuditRecordView {
  readonly eventId: string
  readonly type: string
  readonly correlationId: string | null
  readonly causationId: string | null
  readonly subjectId: string | null
  readonly actorId: string | null
  readonly source: string
  readonly payload: Record<string, unknown>
}

/** A monolith request with its correlation id and, optionally, the caller's traceparent. */
export const monolith = <T = Record<string, unknown>>(
  stack: Stack,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> => call<T>(method, `${stack.url('monolith')}${path}`, { body, headers })

/** Registers a user and signs in from one device; returns the user id and the session tokens. */
export const signUpAndIn = async (...args: Parameters<typeof signIn>) => {
  const [stack, user] = args
  const registered = await monolith<{ userId: string }>(stack, 'POST', '/register', user)
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`)
  const login = await signIn(...args)
  return { userId: registered.body.userId, ...login }
}

/** Signs a registered user in from one device; returns the session tokens. */
export const signIn = async (
  stack: Stack,
  user: { email: string; password: string },
  device: { id: string; name: string },
  headers: Record<string, string> = {},
) => {
  const login = await monolith<{
    sessionId: string
    accessToken: string
    refreshToken: string
    device: { id: string; isNew: boolean } | null
  }>(stack, 'POST', '/login', { ...user, device }, headers)
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`)
  return login.body
}

/** Auth's introspection, as another service would call it. */
export const introspect = async (stack: Stack, token: string): Promise<{ active: boolean; sub?: string }> => {
  const res = await call<{ active: boolean }>('POST', `${stack.url('auth')}/v1/tokens/introspect`, {
    token: await stack.serviceToken('auth'),
    body: { token },
  })
  if (res.status !== 200) throw new Error(`introspect: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

type App = 'auth' | 'notifications' | 'audit' | 'analytics'

/** One page of a service's list endpoint (`{ items }`), called with its service token; throws, naming `label`, on any status but 200. */
const listItems = async <T>(
  stack: Stack,
  app: App,
  path: string,
  query: Record<string, string>,
  label: string,
): Promise<T[]> => {
  const res = await call<{ items: T[] }>('GET', `${stack.url(app)}${path}?${new URLSearchParams(query)}`, {
    token: await stack.serviceToken(app),
  })
  if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items
}

/** Audit records matching a filter (one page of up to 500, newest first). */
export const auditRecords = (stack: Stack, filter: Record<string, string>): Promise<AuditRecordView[]> =>
  listItems<AuditRecordView>(stack, 'audit', '/v1/audit/events', { ...filter, limit: '500' }, 'audit')

/** How many events of a type analytics counted in the last and next hour. */
export const analyticsCount = async (stack: Stack, type: string): Promise<number> => {
  const hour = 3_600_000
  const query = new URLSearchParams({
    type,
    from: new Date(Date.now() - hour).toISOString(),
    to: new Date(Date.now() + hour).toISOString(),
    interval: 'hour',
  })
  const res = await call<{ total: number }>('GET', `${stack.url('analytics')}/v1/stats/timeseries?${query}`, {
    token: await stack.serviceToken('analytics'),
  })
  if (res.status !== 200) throw new Error(`analytics: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.total
}

/** The sum of a Prometheus series (every label set) on an app's `/metrics`; undefined when it has no sample. */
const metricSample = async (stack: Stack, app: App, name: string): Promise<number | undefined> => {
  const res = await fetch(`${stack.url(app)}/metrics`)
  const text = await res.text()
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (match?.[1] === name) sum = (sum ?? 0) + Number(match[3])
  }
  return sum
}

/** The sum of a Prometheus series, 0 when it has no sample yet (a counter never incremented). */
export const metricValue = async (stack: Stack, app: App, name: string) =>
  (await metricSample(stack, app, name)) ?? 0

/** True once the app's consumer group has nothing undelivered and nothing unacknowledged (its `/metrics`). */
export const groupSettled = async (stack: Stack, app: App): Promise<boolean> => {
  const lag = await metricSample(stack, app, 'stream_group_lag')
  const pending = await metricSample(stack, app, 'stream_group_pending')
  return lag === 0 && pending === 0
}

export interface OutboxMessageView {
  readonly id: string
  readonly recipient: string
  readonly subject: string | null
  readonly body: string
  readonly channel: string
}

/** Messages the notifications service stored in its local outbox for one recipient. */
export const outboxFor = (stack: Stack, recipient: string): Promise<OutboxMessageView[]> =>
  listItems<OutboxMessageView>(stack, 'notifications', '/v1/outbox', { recipient, limit: '100' }, 'outbox')

export interface DeliveryView {
  readonly id: string
  readonly template: string
  readonly status: string
  readonly channel: string
  readonly critical: boolean
  readonly providerMessageId: string | null
}

/** The delivery log of one user. */
export const deliveriesOf = (stack: Stack, userId: string): Promise<DeliveryView[]> =>
  listItems<DeliveryView>(stack, 'notifications', '/v1/notifications', { userId, limit: '100' }, 'deliveries')

/**
 * Every event on the run's stream, decoded: the wire contract the monolith itself writes to (docs/pitfalls.md,
 * "The wire contract"), read only where no service exposes a field over HTTP (traceparent).
 */
export const streamEvents = async (stack: Stack): Promise<AnyEvent[]> => {
  const redis = createRedisConnection(stack.redis, 'command')
  try {
    return (await redis.xrange(stack.stream, '-', '+')).flatMap(([, fields]) => {
      const decoded = decodeEntry(fields)
      return decoded.ok ? [decoded.event] : []
    })
  } finally {
    await closeConnection(redis)
  }
}
