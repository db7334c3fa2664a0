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
// The fields around the payload: scalars, which JSON.stringify writes exactly as RFC 8785 does, in the
// order they are set (none is an integer-like key, which objects would list first).
const BEFORE_PAYLOAD = HASHED_KEYS.slice(0, HASHED_KEYS.indexOf('payload'))
const AFTER_PAYLOAD = HASHED_KEYS.slice(HASHED_KEYS.indexOf('payload') + 1)

const generic = (source: object): string => {
  const { hash: _ignored, ...rest } = source as { hash?: unknown }
  const canonical = canonicalize(rest)
  if (canonical === undefined) throw new Error('record cannot be canonicalized')
  return canonical
}

/** Copies `keys` of `source` into a new object in that order; false when a value is not a JSON scalar. */
const scalarsOf = (
  source: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> | false => {
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const value = source[key]
    const type = typeof value
    // canonicalize leaves out keys whose value is undefined or a symbol
    if (value === undefined || type === 'symbol') continue
    if (type === 'number') {
      if (Number.isNaN(value)) throw new Error('NaN is not allowed')
      if (!Number.isFinite(value)) throw new Error('Infinity is not allowed')
    } else if (value !== null && type !== 'string' && type !== 'boolean') return false
    out[key] = value
  }
  return out
}

/**
 * The canonical JSON of a record's hashed fields. A record of exactly the schema's fields (every append and
 * every stored record) takes a path that skips sorting its keys and writes its scalars in two
 * JSON.stringify calls: it yields the same bytes as `canonicalize` would, which every other object (and
 * the payload) still goes through.
 */
export const canonicalRecord = (fields: HashedFields): string => {
  const source = fields as HashedFields & Record<string, unknown>
  if ('toJSON' in source || typeof source.payload !== 'object') return generic(source)
  for (const key in source) if (!KNOWN_KEYS.has(key) || !Object.hasOwn(source, key)) return generic(source)
  const before = scalarsOf(source, BEFORE_PAYLOAD)
  const after = scalarsOf(source, AFTER_PAYLOAD)
  if (before === false || after === false) return generic(source)
  const head = JSON.stringify(before).slice(1, -1)
  const tail = JSON.stringify(after).slice(1, -1)
  const payload = `"payload":${canonicalize(source.payload)}`
  return `{${head && `${head},`}${payload}${tail && `,${tail}`}}`
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
