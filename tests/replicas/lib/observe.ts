/**
 * The questions the replica suite asks, each through a public API (the apps' HTTP routes, with a service token)
 * or the documented wire contract (the stream itself, for what was published and how far each group got).
 */
import { decodeEntry } from '@flotilla/contracts'
import type { createRedisConnection } from '@flotilla/streams'
import { call } from '../../e2e/harness/http.ts'
import type { Cluster } from './cluster.ts'
import type { ReplicatedApp } from './stores.ts'
import type { DeliveryView, OutboxMessage, SentEvent } from './workflows.ts'

type Redis = ReturnType<typeof createRedisConnection>

/** GET with the app's service token, against any live replica; throws on anything but 200. */
const get = async <T>(cluster: Cluster, app: ReplicatedApp, path: string): Promise<T> => {
  const res = await call<T>('GET', `${cluster.url(app)}${path}`, { token: await cluster.serviceToken(app) })
  if (res.status !== 200) throw new Error(`${app} ${path}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/**
 * Distinct valid event ids per type on the stream, how many valid entries there are, the invalid entries' ids,
 * and the `notification.sent` events (distinct by id).
 */
export const streamCensus = async (redis: Redis, stream: string) => {
  const ids = new Map<string, Set<string>>()
  const sent = new Map<string, SentEvent>()
  let valid = 0
  const invalid: string[] = []
  let from = '-'
  for (;;) {
    const page = await redis.xrange(stream, from, '+', 'COUNT', 5000)
    for (const [streamId, fields] of page) {
      const decoded = decodeEntry(fields)
      if (!decoded.ok) {
        invalid.push(streamId)
        continue
      }
      valid++
      const set = ids.get(decoded.event.type) ?? new Set<string>()
      set.add(decoded.event.id)
      ids.set(decoded.event.type, set)
      if (decoded.known && decoded.event.type === 'notification.sent') {
        const { id, payload } = decoded.event
        sent.set(id, {
          id,
          notificationId: payload.notificationId,
          userId: payload.userId,
          provider: payload.provider,
        })
      }
    }
    if (page.length < 5000) break
    from = `(${page.at(-1)![0]}`
  }
  const distinctByType = new Map([...ids].map(([type, set]) => [type, set.size]))
  return { distinctByType, valid, invalid, sent: [...sent.values()] }
}

/**
 * True once the group has read every entry on the stream and acknowledged (or dead-lettered) each one: its
 * last-delivered id is the stream's last id and nothing is pending.
 */
export const groupSettled = async (redis: Redis, stream: string, group: string): Promise<boolean> => {
  const info = (await redis.xinfo('STREAM', stream)) as unknown[]
  const lastId = String(info[info.indexOf('last-generated-id') + 1])
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][]
  const mine = groups.find((g) => g[g.indexOf('name') + 1] === group)
  if (!mine) return false
  return (
    String(mine[mine.indexOf('last-delivered-id') + 1]) === lastId && mine[mine.indexOf('pending') + 1] === 0
  )
}

/** Every email the notifications outbox transport stored (all pages). */
export const outboxEmails = async (cluster: Cluster): Promise<OutboxMessage[]> => {
  const messages: OutboxMessage[] = []
  let cursor: string | null = null
  do {
    const query = new URLSearchParams({ channel: 'email', limit: '100', ...(cursor ? { cursor } : {}) })
    const page: { items: OutboxMessage[]; nextCursor: string | null } = await get(
      cluster,
      'notifications',
      `/v1/outbox?${query}`,
    )
    messages.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return messages
}

/** Every delivery notifications recorded (all pages, newest first). */
export const deliveries = async (cluster: Cluster): Promise<DeliveryView[]> => {
  const items: DeliveryView[] = []
  let cursor: string | null = null
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) })
    const page: { items: DeliveryView[]; nextCursor: string | null } = await get(
      cluster,
      'notifications',
      `/v1/notifications?${query}`,
    )
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return items
}

/** Audit records per type, counted by the store (every tenant). */
export const auditCounts = async (cluster: Cluster): Promise<Map<string, number>> => {
  const body = await get<{ truncated: boolean; rows: { type?: string; count: number }[] }>(
    cluster,
    'audit',
    '/v1/audit/stats/counts?groupBy=type&limit=10000',
  )
  if (body.truncated) throw new Error('audit counts truncated')
  return new Map(body.rows.map((row) => [row.type ?? '', row.count]))
}

/** Records per tenant chain (`(none)` is the global chain), counted by the store. */
export const auditChains = async (cluster: Cluster): Promise<Map<string, number>> => {
  const body = await get<{ rows: { tenant?: string; count: number }[] }>(
    cluster,
    'audit',
    '/v1/audit/stats/counts?groupBy=tenant&limit=10000',
  )
  return new Map(body.rows.map((row) => [row.tenant ?? '', row.count]))
}

export interface Verification {
  readonly ok: boolean
  readonly chain: string
  readonly checked: number
  readonly head: { readonly seq: number }
  readonly brokenAt?: { readonly seq: number; readonly reason: string }
}

/** Recomputes one chain (`undefined`: the global chain) through the verify route. */
export const verifyChain = (cluster: Cluster, tenantId: string | undefined): Promise<Verification> =>
  get<Verification>(cluster, 'audit', `/v1/audit/verify${tenantId ? `?tenantId=${tenantId}` : ''}`)

/** Events analytics counted per type over `[from, to)`. */
export const analyticsCounts = async (cluster: Cluster, from: Date, to: Date) => {
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: '100' })
  const body = await get<{ total: number; types: { name: string; count: number }[] }>(
    cluster,
    'analytics',
    `/v1/stats/summary?${query}`,
  )
  return new Map(body.types.map((row) => [row.name, row.count]))
}

export interface DeadLetterView {
  readonly originalId: string
  readonly error: { readonly code: string; readonly message: string }
}

/** Every dead letter of the app's group (all pages). */
export const deadLetters = async (cluster: Cluster, app: ReplicatedApp): Promise<DeadLetterView[]> => {
  const items: DeadLetterView[] = []
  let cursor: string | null = null
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) })
    const page: { items: DeadLetterView[]; nextCursor: string | null } = await get(
      cluster,
      app,
      `/v1/dead-letters?${query}`,
    )
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return items
}
