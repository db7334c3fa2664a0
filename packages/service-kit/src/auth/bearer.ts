/** Reads a bearer token and peeks at its `typ` to pick a verifier (the verifier still checks everything). */
import { TokenError } from '@flotilla/contracts'
import { decodeProtectedHeader } from 'jose'

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i
const MAX_TOKEN_LENGTH = 8192

/** The token of an `Authorization: Bearer …` header; throws `TokenError` when absent or malformed. */
export const bearerToken = (authorization: string | null | undefined): string => {
  const token = authorization?.match(BEARER)?.[1]
  if (!token || token.length > MAX_TOKEN_LENGTH) throw new TokenError('a bearer token is required')
  return token
}

/** The token's header `typ`, unverified; `undefined` when the header cannot be decoded. */
export const peekTokenType = (token: string): string | undefined => {
  try {
    const typ = decodeProtectedHeader(token).typ
    return typeof typ === 'string' ? typ.toLowerCase() : undefined
  } catch {
    return undefined
  }
}
