/** A tiny JWS builder on WebCrypto, so attack tokens can carry any header, any claims and any (wrong) signature. */

const b64url = (bytes: Uint8Array | string): string =>
  Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64url')

/** How to sign: Ed25519 with a private key, HMAC-SHA256 with a secret, or not at all. */
export type Signing =
  | { readonly kind: 'ed25519'; readonly key: CryptoKey }
  | { readonly kind: 'hs256'; readonly secret: Uint8Array }
  | { readonly kind: 'none' }

/** Builds `header.payload.signature` with exactly the header and claims given. */
export const signJws = (
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signing: Signing,
): Promise<string> => signSegments(b64url(JSON.stringify(header)), b64url(JSON.stringify(claims)), signing)

/** Signs exactly the two segments given, however they are spelled (padding, raw JSON with repeated keys). */
export const signSegments = async (
  headerSegment: string,
  payloadSegment: string,
  signing: Signing,
): Promise<string> => {
  const input = `${headerSegment}.${payloadSegment}`
  const data = new TextEncoder().encode(input)
  if (signing.kind === 'none') return `${input}.`
  if (signing.kind === 'ed25519') {
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', signing.key, data))
    return `${input}.${b64url(signature)}`
  }
  const key = await crypto.subtle.importKey(
    'raw',
    Uint8Array.from(signing.secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return `${input}.${b64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, data)))}`
}

/** A fresh Ed25519 key pair and its public JWK. */
export const ed25519KeyPair = async (kid: string) => {
  const pair = (await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify'])) as CryptoKeyPair
  const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' }
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, jwk }
}

/** Seconds since the epoch. */
export const now = (): number => Math.floor(Date.now() / 1000)
