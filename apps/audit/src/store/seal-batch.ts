/** Sealing one batch onto its chains, the same for the libSQL and PostgreSQL append paths. */
import { chainOf } from '../records/from-event.ts'
import { sealRecord } from '../records/hash.ts'
import { type AuditRecord, GENESIS_HASH, type RecordInput } from '../records/model.ts'

/** A chain's last record: its seq and hash. */
export type Head = { seq: number; hash: string }

/**
 * Seals `inputs` in order: an event id already stored (`seen`) or earlier in the batch is a duplicate; every
 * other record links to its chain's head (`stored`: null for a chain with no record yet) or to the record
 * sealed before it. Throws when a chain of the batch is missing from `stored`.
 */
export const sealBatch = (
  inputs: readonly RecordInput[],
  seen: Set<string>,
  stored: ReadonlyMap<string, Head | null>,
): { appended: AuditRecord[]; duplicates: string[]; newChains: string[] } => {
  const appended: AuditRecord[] = []
  const duplicates: string[] = []
  const heads = new Map<string, Head>()
  const newChains: string[] = []
  for (const input of inputs) {
    if (seen.has(input.eventId)) {
      duplicates.push(input.eventId)
      continue
    }
    seen.add(input.eventId)
    const chain = chainOf(input.tenantId)
    let head = heads.get(chain) ?? stored.get(chain)
    if (head === undefined) throw new Error(`chain ${chain} missing from the batch read`)
    if (head === null) {
      newChains.push(chain)
      head = { seq: 0, hash: GENESIS_HASH }
    }
    const record = sealRecord(input, chain, head.seq + 1, head.hash)
    heads.set(chain, { seq: record.seq, hash: record.hash })
    appended.push(record)
  }
  return { appended, duplicates, newChains }
}
