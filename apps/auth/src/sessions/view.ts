/** Turns stored sessions into their API shape. */
import type { SessionView } from './model.ts'
import type { SessionRecord } from './store.ts'

const iso = (ms: number) => new Date(ms).toISOString()

export const toSessionView = (s: SessionRecord, currentSessionId?: string): SessionView => ({
  id: s.id,
  userId: s.userId,
  ...(s.tenantId ? { tenantId: s.tenantId } : {}),
  ...(s.deviceId ? { deviceId: s.deviceId } : {}),
  scopes: s.scopes,
  ...(s.ip ? { ip: s.ip } : {}),
  ...(s.userAgent ? { userAgent: s.userAgent } : {}),
  createdAt: iso(s.createdAt),
  lastRefreshedAt: iso(s.lastRefreshedAt),
  idleExpiresAt: iso(s.idleExpiresAt),
  absoluteExpiresAt: iso(s.absoluteExpiresAt),
  current: s.id === currentSessionId,
})
