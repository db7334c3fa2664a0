/** The public HTTP calls the flows make, one helper per question a user would ask. */
import { type AnyEvent, decodeEntry } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { call, type JsonResponse } from './http.ts'
import { REDIS_URL, type Stack } from './stack.ts'

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
export const signUpAndIn = async (
  stack: Stack,
  user: { email: string; password: string },
  device: { id: string; name: string },
  headers: Record<string, string> = {},
) => {
  const registered = await monolith<{ userId: string }>(stack, 'POST', '/register', user)
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`)
  const login = await signIn(stack, user, device, headers)
  return { userId: registered.body.userId, ...login }
}

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

/** Audit records matching a filter (one page of up to 500, newest first). */
export const auditRecords = async (
  stack: Stack,
  filter: Record<string, string>,
): Promise<AuditRecordView[]> => {
  const query = new URLSearchParams({ ...filter, limit: '500' })
  const res = await call<{ items: AuditRecordView[] }>(
    'GET',
    `${stack.url('audit')}/v1/audit/events?${query}`,
    {
      token: await stack.serviceToken('audit'),
    },
  )
  if (res.status !== 200) throw new Error(`audit: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items
}

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

type App = 'auth' | 'notifications' | 'audit' | 'analytics'

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
export const outboxFor = async (stack: Stack, recipient: string): Promise<OutboxMessageView[]> => {
  const query = new URLSearchParams({ recipient, limit: '100' })
  const res = await call<{ items: OutboxMessageView[] }>(
    'GET',
    `${stack.url('notifications')}/v1/outbox?${query}`,
    {
      token: await stack.serviceToken('notifications'),
    },
  )
  if (res.status !== 200) throw new Error(`outbox: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items
}

export interface DeliveryView {
  readonly id: string
  readonly template: string
  readonly status: string
  readonly channel: string
  readonly critical: boolean
  readonly providerMessageId: string | null
}

/** The delivery log of one user. */
export const deliveriesOf = async (stack: Stack, userId: string): Promise<DeliveryView[]> => {
  const query = new URLSearchParams({ userId, limit: '100' })
  const res = await call<{ items: DeliveryView[] }>(
    'GET',
    `${stack.url('notifications')}/v1/notifications?${query}`,
    {
      token: await stack.serviceToken('notifications'),
    },
  )
  if (res.status !== 200) throw new Error(`deliveries: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items
}

/**
 * Every event on the run's stream, decoded: the wire contract the monolith itself writes to (docs/pitfalls.md,
 * "The wire contract"), read only where no service exposes a field over HTTP (traceparent).
 */
export const streamEvents = async (stack: Stack): Promise<AnyEvent[]> => {
  const redis = createRedisConnection(REDIS_URL, 'command')
  try {
    return (await redis.xrange(stack.stream, '-', '+')).flatMap(([, fields]) => {
      const decoded = decodeEntry(fields)
      return decoded.ok ? [decoded.event] : []
    })
  } finally {
    await closeConnection(redis)
  }
}
