/** What the domain reports for operators (metrics.ts turns it into Prometheus counters). */
import type { LimitName } from './rate-limit/rate-limit.ts'
import type { SessionRevokedReason } from './sessions/model.ts'

/** The outcome of one refresh request. */
export type RefreshOutcome = 'rotated' | 'grace' | 'conflict' | 'reused' | 'expired' | 'invalid'

export interface AuthObserver {
  sessionCreated(): void
  refreshed(outcome: RefreshOutcome): void
  sessionsRevoked(reason: SessionRevokedReason, count: number): void
  introspected(active: boolean): void
  rateLimited(limit: LimitName): void
}

/** Reports nothing (tests, tools). */
export const noopObserver: AuthObserver = {
  sessionCreated() {},
  refreshed() {},
  sessionsRevoked() {},
  introspected() {},
  rateLimited() {},
}
