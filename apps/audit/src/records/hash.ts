/** Chain hashing: SHA-256 over the RFC 8785 canonical JSON of a record without its own hash. */
import canonicalize from 'canonicalize'
import { AuditRecord } from './model.ts'

/** The fields a hash covers: the whole record but `hash` itself (so `prevHash`, `seq` and `chain` too). */
export type HashedFields = Omit<AuditRecord, 'hash'>

// RFC 8785 orders keys by UTF-16 code units, which is what Array#sort does with strings.
const HASHED_KEYS = Object.keys(AuditRecord.properties)
  .filter((k) => k !== 'hash')
  .sort()
const KNOWN_KEYS = new Set([...HASHED_KEYS, 'hash'])
// `"key":`, serialized once rather than for every record.
const KEY_PREFIXES = HASHED_KEYS.map((k) => `${JSON.stringify(k)}:`)

/**
 * The canonical JSON of a record's hashed fields. A record of exactly the schema's fields (every append and
 * every stored record) takes a path that skips sorting its keys: it yields the same bytes as `canonicalize`
 * would, which every other object still goes through.
 */
export const canonicalRecord = (fields: HashedFields): string => {
  const source = fields as HashedFields & { hash?: string }
  let regular = !('toJSON' in source)
  if (regular) {
    for (const key in source) {
      if (!KNOWN_KEYS.has(key) || !Object.hasOwn(source, key)) {
        regular = false
        break
      }
    }
  }
  if (!regular) {
    const { hash: _ignored, ...rest } = source
    const canonical = canonicalize(rest)
    if (canonical === undefined) throw new Error('record cannot be canonicalized')
    return canonical
  }
  let out = '{'
  for (let i = 0; i < HASHED_KEYS.length; i++) {
    const value = (source as Record<string, unknown>)[HASHED_KEYS[i] as string]
    // canonicalize leaves out keys whose value is undefined or a symbol
    if (value === undefined || typeof value === 'symbol') continue
    if (out.length > 1) out += ','
    out += KEY_PREFIXES[i] as string
    out += typeof value === 'string' ? JSON.stringify(value) : (canonicalize(value) as string)
  }
  return `${out}}`
}

/** Hex SHA-256 of the canonical JSON of `fields`; key order never changes it. */
export const hashRecord = (fields: HashedFields): string =>
  Bun.CryptoHasher.hash('sha256', canonicalRecord(fields), 'hex')

/** Builds the next record of a chain from its input and the chain's current head. */
export const sealRecord = (
  input: Omit<AuditRecord, 'chain' | 'seq' | 'prevHash' | 'hash'>,
  chain: string,
  seq: number,
  prevHash: string,
): AuditRecord => {
  // One object: the hash covers every field but `hash`, so it can be filled in afterwards.
  const record: AuditRecord = { ...input, chain, seq, prevHash, hash: '' }
  record.hash = hashRecord(record)
  return record
}
