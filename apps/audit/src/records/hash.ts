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

const generic = (source: object): string => {
  const { hash: _ignored, ...rest } = source as { hash?: unknown }
  const canonical = canonicalize(rest)
  if (canonical === undefined) throw new Error('record cannot be canonicalized')
  return canonical
}

/** A JSON scalar as canonicalize takes it; throws on NaN and Infinity as it does; false for anything else. */
const isScalar = (value: unknown): boolean => {
  const type = typeof value
  if (type === 'number') {
    if (Number.isNaN(value)) throw new Error('NaN is not allowed')
    if (!Number.isFinite(value)) throw new Error('Infinity is not allowed')
    return true
  }
  return value === null || type === 'string' || type === 'boolean'
}

// Keys JSON.stringify would not write in the order they were set: array indices (objects list them first,
// in numeric order), and `__proto__`, which an assignment would not even create as a key.
const INDEX_LIKE = /^(?:0|[1-9]\d*)$/
const NOT_IN_SET_ORDER = Symbol('not in set order')

/**
 * A copy of a JSON value whose objects hold their keys in RFC 8785 order (UTF-16 code units, what Array#sort
 * does with strings), so one JSON.stringify writes its canonical form; NOT_IN_SET_ORDER for anything that
 * JSON.stringify would write differently from canonicalize (toJSON, functions, array holes, index-like keys…).
 */
const ordered = (value: unknown): unknown => {
  if (typeof value !== 'object' || value === null) return isScalar(value) ? value : NOT_IN_SET_ORDER
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length)
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_IN_SET_ORDER
      const item = value[i]
      // canonicalize writes null for undefined and symbols in arrays, as JSON.stringify does
      const copy = item === undefined || typeof item === 'symbol' ? null : ordered(item)
      if (copy === NOT_IN_SET_ORDER) return copy
      out[i] = copy
    }
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) return NOT_IN_SET_ORDER
  const source = value as Record<string, unknown>
  const keys = Object.keys(source).sort()
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const item = source[key]
    // canonicalize leaves out keys whose value is undefined or a symbol, as JSON.stringify does
    if (item === undefined || typeof item === 'symbol') continue
    if (key === '__proto__' || INDEX_LIKE.test(key)) return NOT_IN_SET_ORDER
    const copy = ordered(item)
    if (copy === NOT_IN_SET_ORDER) return copy
    out[key] = copy
  }
  return out
}

/**
 * The canonical JSON of a record's hashed fields. A record of exactly the schema's fields (every append and
 * every stored record) is copied into an object that holds its keys in canonical order (the schema's, sorted
 * once; the payload's, sorted by `ordered`) and written by one JSON.stringify: the same bytes as
 * `canonicalize`, which every other object still goes through.
 */
export const canonicalRecord = (fields: HashedFields): string => {
  const source = fields as HashedFields & Record<string, unknown>
  if ('toJSON' in source || typeof source.payload !== 'object') return generic(source)
  for (const key in source) if (!KNOWN_KEYS.has(key) || !Object.hasOwn(source, key)) return generic(source)
  const out: Record<string, unknown> = {}
  for (const key of HASHED_KEYS) {
    const value = source[key]
    // canonicalize leaves out keys whose value is undefined or a symbol
    if (value === undefined || typeof value === 'symbol') continue
    const copy = key === 'payload' ? ordered(value) : isScalar(value) ? value : NOT_IN_SET_ORDER
    if (copy === NOT_IN_SET_ORDER) return generic(source)
    out[key] = copy
  }
  return JSON.stringify(out)
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
