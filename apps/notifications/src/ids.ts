/** Deterministic ids: the same name always gives the same UUID, so retries and replays reuse it. */

const HEX = '0123456789abcdef'

/**
 * A UUID (version 8, RFC 9562) derived from a name with SHA-256.
 * @example derivedId('delivery|<event id>|email|a@example.com')
 */
export const derivedId = (name: string): string => {
  const h = Bun.CryptoHasher.hash('sha256', name, 'hex') as string
  // The first 128 bits, version 8 in the 13th digit, the variant (10xx) in the 17th.
  const variant = HEX[(Number.parseInt(h[16] as string, 16) & 0x3) | 0x8]
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/**
 * `derivedId(name)` with its first 48 bits replaced by the time (ms) of `origin` when that is a UUIDv7 (an event
 * id), laid out as in a UUIDv7: ids of later events sort after, so rows keyed by them go to the end of their
 * B-tree indexes instead of each to a random page (a batch of 64 random keys dirtied a page per key and index,
 * all written again at its commit). Still one id per name; without a v7 origin, `derivedId(name)`.
 * @example timeOrderedId('delivery|<event id>|email|a@example.com', '<event id>')
 */
export const timeOrderedId = (name: string, origin: string): string => {
  const id = derivedId(name)
  if (!UUID_V7.test(origin)) return id
  return `${origin.slice(0, 8)}-${origin.slice(9, 13)}${id.slice(13)}`.toLowerCase()
}
