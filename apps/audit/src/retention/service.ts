/** The pruning job: deletes records past their chain's retention through the store's retention path. */
import type { ExternalAnchors } from '../chain/checkpoints.ts'
import type { RetentionAnchor } from '../records/model.ts'
import type { AuditStore } from '../store/types.ts'
import { type RetentionPolicy, retentionDaysFor } from './policy.ts'

export interface RetentionDeps {
  readonly store: AuditStore
  readonly policy: RetentionPolicy
  /** Where the anchor is kept outside the store too, so a moved anchor row is detected by verify. */
  readonly anchors?: ExternalAnchors
  /** @defaultValue () => new Date() */
  readonly now?: () => Date
}

const DAY_MS = 86_400_000

/** Prunes every chain once; returns the anchors it moved. */
export const runRetention = async (deps: RetentionDeps): Promise<RetentionAnchor[]> => {
  const now = (deps.now ?? (() => new Date()))()
  const moved: RetentionAnchor[] = []
  for (const chain of await deps.store.chains()) {
    const days = retentionDaysFor(deps.policy, chain)
    if (days <= 0) continue
    const anchor = await deps.store.prune(chain, new Date(now.getTime() - days * DAY_MS), now)
    if (!anchor) continue
    await deps.anchors?.savePruned(anchor)
    moved.push(anchor)
  }
  return moved
}
