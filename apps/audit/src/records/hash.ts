/** Chain hashing: SHA-256 over the RFC 8785 canonical JSON of a record without its own hash. */
import canonicalize from 'canonicalize'
import type { AuditRecord } from './model.ts'

/** The fields a hash covers: the whole record but `hash` itself (so `prevHash`, `seq` and `chain` too). */
export type HashedFields = Omit<AuditRecord, 'hash'>

/** Hex SHA-256 of the canonical JSON of `fields`; key order never changes it. */
export const hashRecord = (fields: HashedFields): string => {
  const { hash: _ignored, ...rest } = fields as HashedFields & { hash?: string }
  const canonical = canonicalize(rest)
  if (canonical === undefined) throw new Error('record cannot be canonicalized')
  return new Bun.CryptoHasher('sha256').update(canonical).digest('hex')
}

/** Builds the next record of a chain from its input and the chain's current head. */
export const sealRecord = (
  input: Omit<AuditRecord, 'chain' | 'seq' | 'prevHash' | 'hash'>,
  chain: string,
  seq: number,
  prevHash: string,
): AuditRecord => {
  const fields: HashedFields = { ...input, chain, seq, prevHash }
  return { ...fields, hash: hashRecord(fields) }
}
