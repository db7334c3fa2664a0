/** The checkpoint job: anchors each chain head outside the store with an `audit.checkpoint` event. */
import { type AnyEvent, createEvent } from '@flotilla/contracts'
import type { Checkpoint, ExternalAnchors } from '../chain/checkpoints.ts'
import { GLOBAL_CHAIN } from '../records/model.ts'
import type { AuditStore } from '../store/types.ts'

export interface CheckpointDeps {
  readonly store: AuditStore
  readonly anchors: ExternalAnchors
  /** Publishes onto the events stream. */
  readonly publish: (event: AnyEvent) => Promise<unknown>
}

/**
 * Publishes one checkpoint per chain whose head moved since its last checkpoint. A chain whose head is
 * itself a checkpoint record moved only because of us: checkpointing it again would loop forever.
 */
export const runCheckpoints = async (deps: CheckpointDeps): Promise<Checkpoint[]> => {
  const published: Checkpoint[] = []
  for (const chain of await deps.store.chains()) {
    const head = await deps.store.head(chain)
    if (!head || head.type === undefined) continue
    if (head.type === 'audit.checkpoint' && head.source === 'audit') continue
    const last = await deps.anchors.lastCheckpoint(chain)
    if (last && last.seq >= head.seq) continue
    const checkpoint = { chain, seq: head.seq, hash: head.hash }
    await deps.publish(
      createEvent('audit.checkpoint', checkpoint, {
        source: 'audit',
        ...(chain === GLOBAL_CHAIN ? {} : { tenantId: chain }),
      }),
    )
    await deps.anchors.saveCheckpoint(checkpoint)
    published.push(checkpoint)
  }
  return published
}
