/** Deterministic ids: the same name always gives the same UUID, so retries and replays reuse it. */

/**
 * A UUID (version 8, RFC 9562) derived from a name with SHA-256.
 * @example derivedId('delivery|<event id>|email|a@example.com')
 */
export const derivedId = (name: string): string => {
  const hex = new Bun.CryptoHasher('sha256').update(name).digest('hex').slice(0, 32).split('')
  hex[12] = '8'
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}
