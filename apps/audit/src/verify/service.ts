/** Chain verification: recomputes every hash and link, then compares against anchors kept outside the store. */
import type { ExternalAnchors } from '../chain/checkpoints.ts'
import { hashRecord } from '../records/hash.ts'
import { type AuditRecord, GENESIS_HASH } from '../records/model.ts'
import type { AuditStore } from '../store/types.ts'

/** Why a chain is broken at a record. */
export type BreakReason =
  | 'hash_mismatch'
  | 'prev_hash_mismatch'
  | 'record_missing'
  | 'checkpoint_mismatch'
  | 'truncated'
  | 'anchor_mismatch'

export interface BrokenAt {
  /** The seq of the first record that does not verify (or that is missing). */
  readonly seq: number
  /** Its event id, when the record exists. */
  readonly eventId: string | null
  readonly reason: BreakReason
  readonly message: string
}

export interface VerifyResult {
  readonly ok: boolean
  readonly chain: string
  /** Records whose hash and link were recomputed. */
  readonly checked: number
  readonly head: { readonly seq: number; readonly hash: string }
  /** Checkpoints the chain was compared against (in-chain `audit.checkpoint` records and the external one). */
  readonly checkpoints: number
  readonly brokenAt?: BrokenAt
}

export interface VerifyDeps {
  readonly store: AuditStore
  readonly anchors?: ExternalAnchors
  /** @defaultValue 1000 */
  readonly pageSize?: number
}

const checkpointOf = (r: AuditRecord, chain: string): { seq: number; hash: string } | null => {
  if (r.type !== 'audit.checkpoint' || r.source !== 'audit') return null
  const { chain: c, seq, hash } = r.payload as { chain?: unknown; seq?: unknown; hash?: unknown }
  return c === chain && typeof seq === 'number' && typeof hash === 'string' ? { seq, hash } : null
}

/** Verifies one chain from its retention anchor (or genesis) to its head, reading it page by page. */
export const verifyChain = async (deps: VerifyDeps, chain: string): Promise<VerifyResult> => {
  const { store, anchors } = deps
  const pageSize = deps.pageSize ?? 1000
  const anchor = await store.anchor(chain)
  const base = anchor?.seq ?? 0
  let head = { seq: base, hash: anchor?.hash ?? GENESIS_HASH }
  let checked = 0
  const checkpoints: { seq: number; hash: string }[] = []
  const result = (brokenAt?: BrokenAt): VerifyResult => ({
    ok: brokenAt === undefined,
    chain,
    checked,
    head,
    checkpoints: checkpoints.length,
    ...(brokenAt ? { brokenAt } : {}),
  })

  // The anchor row itself could be moved forward to hide deleted history: compare it with the copy kept
  // outside. That copy is written before the delete, so it may be ahead (a prune that did not complete):
  // then it is checked like a checkpoint. Behind, or a different hash at the same seq, is tampering.
  const keptAnchor = await anchors?.lastPruned(chain)
  if (keptAnchor && (keptAnchor.seq < base || (keptAnchor.seq === base && keptAnchor.hash !== head.hash))) {
    return result({
      seq: keptAnchor.seq + 1,
      eventId: null,
      reason: 'anchor_mismatch',
      message: `retention anchor is at seq ${base}, but seq ${keptAnchor.seq} was anchored when pruning`,
    })
  }
  if (keptAnchor && keptAnchor.seq > base) checkpoints.push({ seq: keptAnchor.seq, hash: keptAnchor.hash })

  // Read before the scan: a checkpoint taken while we scan must not look like a truncated tail.
  const external = await anchors?.lastCheckpoint(chain)
  for (let after = base; ; ) {
    const page = await store.chainRecords(chain, after, pageSize)
    for (const r of page) {
      const expected = head.seq + 1
      if (r.seq !== expected) {
        return result({
          seq: expected,
          eventId: null,
          reason: 'record_missing',
          message: `seq ${expected} is missing (next record is seq ${r.seq})`,
        })
      }
      if (r.prevHash !== head.hash) {
        return result({
          seq: r.seq,
          eventId: r.eventId,
          reason: 'prev_hash_mismatch',
          message: `prevHash does not match the hash of seq ${head.seq}: records were reordered or replaced`,
        })
      }
      if (hashRecord(r) !== r.hash) {
        return result({
          seq: r.seq,
          eventId: r.eventId,
          reason: 'hash_mismatch',
          message: 'the record was changed after it was written',
        })
      }
      const cp = checkpointOf(r, chain)
      if (cp) checkpoints.push(cp)
      head = { seq: r.seq, hash: r.hash }
      checked += 1
    }
    const last = page.at(-1)
    if (!last || page.length < pageSize) break
    after = last.seq
  }

  if (external) checkpoints.push({ seq: external.seq, hash: external.hash })
  for (const cp of checkpoints.toSorted((a, b) => a.seq - b.seq)) {
    if (cp.seq < base) continue
    if (cp.seq > head.seq) {
      return result({
        seq: head.seq + 1,
        eventId: null,
        reason: 'truncated',
        message: `the chain ends at seq ${head.seq}, but seq ${cp.seq} was checkpointed`,
      })
    }
    const hash = cp.seq === base ? anchor?.hash : (await store.recordAt(chain, cp.seq))?.hash
    if (hash !== cp.hash) {
      const record = cp.seq === base ? null : await store.recordAt(chain, cp.seq)
      return result({
        seq: cp.seq,
        eventId: record?.eventId ?? null,
        reason: 'checkpoint_mismatch',
        message: `seq ${cp.seq} does not have the hash its checkpoint anchored`,
      })
    }
  }
  return result()
}
