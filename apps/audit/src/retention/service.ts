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
    // The anchor is kept outside the store before anything is deleted: a crash in between leaves the outside
    // copy ahead of the store, which verify reads as a checkpoint, never as tampering.
    const anchors = deps.anchors
    const anchor = await deps.store.prune(chain, new Date(now.getTime() - days * DAY_MS), {
      now,
      ...(anchors ? { beforeDelete: (a: RetentionAnchor) => anchors.savePruned(a) } : {}),
    })
    if (anchor) moved.push(anchor)
  }
  return moved
}
