/** Auth counters on the kit's Prometheus registry: refresh outcomes (reuse spikes), revocations, limits. */
import { Counter, type Registry } from '@flotilla/service-kit'
import type { AuthObserver } from './observe.ts'

/** Registers the auth counters and returns the observer that feeds them. */
export const createAuthMetrics = (registry: Registry): AuthObserver => {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] })
  const created = counter('auth_sessions_created_total', 'Sessions started', [])
  const refreshes = counter('auth_refresh_total', 'Refresh requests by outcome (reused = family revoked)', [
    'outcome',
  ])
  const revoked = counter('auth_sessions_revoked_total', 'Sessions revoked, by reason', ['reason'])
  const introspections = counter('auth_introspections_total', 'Introspection answers', ['active'])
  const limited = counter('auth_rate_limited_total', 'Requests refused by a rate limit', ['limit'])
  return {
    sessionCreated: () => created.inc(),
    refreshed: (outcome) => refreshes.inc({ outcome }),
    sessionsRevoked: (reason, count) => {
      if (count > 0) revoked.inc({ reason }, count)
    },
    introspected: (active) => introspections.inc({ active: String(active) }),
    rateLimited: (limit) => limited.inc({ limit }),
  }
}
