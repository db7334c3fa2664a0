/** Refresh tokens: `<sessionId>.<256 random bits>`, stored only as SHA-256 hashes. */

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const SECRET = /^[A-Za-z0-9_-]{43}$/

/** A new refresh token for a session. */
export const newRefreshToken = (sessionId: string): string =>
  `${sessionId}.${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`

/** The session a refresh token belongs to, or undefined when it is malformed. */
export const parseRefreshToken = (token: unknown): { sessionId: string } | undefined => {
  if (typeof token !== 'string' || token.length > 100) return undefined
  const [sessionId, secret, extra] = token.split('.')
  if (extra !== undefined || !sessionId || !secret || !SESSION_ID.test(sessionId) || !SECRET.test(secret)) {
    return undefined
  }
  return { sessionId }
}

/** SHA-256 (hex) of a refresh token: the only form kept in Redis. */
export const hashRefreshToken = (token: string): string =>
  new Bun.CryptoHasher('sha256').update(token).digest('hex')
