/**
 * Forged and broken access tokens (RFC 8725, the jwt_tool attack list) for conformance tests: every
 * verifier of user access tokens must refuse each one with a 401, never a 500.
 */
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose'

/** One attack: a name for the test title and the token to present. */
export interface AttackToken {
  readonly name: string
  readonly token: string
}

export interface AttackTokenOptions {
  /** The genuine signing key and its kid (used for typ, claim and tampering attacks). */
  readonly privateKey: CryptoKey
  /** The genuine public key, for HS256-with-the-public-key confusion. */
  readonly publicKey: CryptoKey
  readonly kid: string
  /** Claims of a valid token (`sub`, `sid`, `iss`, `aud`, `jti`, `scope`…); `iat`/`exp` are set here. */
  readonly claims: JWTPayload
  /** @defaultValue 'EdDSA' */
  readonly alg?: string
}

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64url')
const json = (value: unknown) => b64(JSON.stringify(value))
const now = () => Math.floor(Date.now() / 1000)

/** Builds every attack token against one genuine key. */
export const buildAttackTokens = async (options: AttackTokenOptions): Promise<AttackToken[]> => {
  const { privateKey, publicKey, kid, claims } = options
  const alg = options.alg ?? 'EdDSA'
  const t = now()
  const base = { ...claims, iat: t, exp: t + 300 }
  const sign = (
    header: Record<string, unknown>,
    payload: JWTPayload,
    key: CryptoKey | Uint8Array = privateKey,
  ) => new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt', kid, ...header }).sign(key)

  /** `payload` without `claim`: a token that lacks it. */
  const without = (payload: JWTPayload, claim: string): JWTPayload =>
    Object.fromEntries(Object.entries(payload).filter(([name]) => name !== claim))

  const valid = await sign({}, base)
  const [h, p, s] = valid.split('.') as [string, string, string]
  const attacker = await generateKeyPair('EdDSA', { extractable: true })
  const attackerJwk = await exportJWK(attacker.publicKey)
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const es = await generateKeyPair('ES256', { extractable: true })
  const publicPem = await exportSPKI(publicKey)
  const publicJwk = await exportJWK(publicKey)
  const enc = new TextEncoder()
  const flip = (seg: string) => (seg[0] === 'A' ? `B${seg.slice(1)}` : `A${seg.slice(1)}`)
  const unsigned = (header: Record<string, unknown>) => `${json(header)}.${json(base)}`
  // jose refuses to sign some malformed headers (unknown crit), so sign those bytes with WebCrypto.
  const rawSign = async (header: Record<string, unknown>) => {
    const input = unsigned({ alg, typ: 'at+jwt', kid, ...header })
    const signature = await crypto.subtle.sign(privateKey.algorithm, privateKey, enc.encode(input))
    return `${input}.${b64(new Uint8Array(signature))}`
  }

  const attacks: [string, string | Promise<string>][] = [
    ...['none', 'None', 'NONE', 'nOnE'].flatMap((none): [string, string][] => [
      [`alg "${none}" without a signature`, `${unsigned({ alg: none, typ: 'at+jwt', kid })}.`],
      [`alg "${none}" with the original signature`, `${unsigned({ alg: none, typ: 'at+jwt', kid })}.${s}`],
    ]),
    ['stripped signature', `${h}.${p}.`],
    ['tampered signature', `${h}.${p}.${flip(s)}`],
    [
      'tampered payload (sub changed) with the original signature',
      `${h}.${json({ ...base, sub: 'someone-else' })}.${s}`,
    ],
    ['signed by the wrong key under the genuine kid', sign({}, base, attacker.privateKey)],
    [
      'HS256 signed with the public key PEM as the secret',
      sign({ alg: 'HS256' }, base, enc.encode(publicPem)),
    ],
    [
      'HS256 signed with the public JWK as the secret',
      sign({ alg: 'HS256' }, base, enc.encode(JSON.stringify(publicJwk))),
    ],
    [
      'HS256 signed with the raw public key as the secret',
      sign({ alg: 'HS256' }, base, enc.encode(publicJwk.x ?? '')),
    ],
    ['RS256 signed by an attacker key under the genuine kid', sign({ alg: 'RS256' }, base, rsa.privateKey)],
    ['ES256 signed by an attacker key under the genuine kid', sign({ alg: 'ES256' }, base, es.privateKey)],
    ['embedded jwk of the attacker key', sign({ jwk: attackerJwk }, base, attacker.privateKey)],
    ['embedded jwk without kid', sign({ jwk: attackerJwk, kid: undefined }, base, attacker.privateKey)],
    [
      'jku pointing at an attacker JWKS',
      sign({ jku: 'http://127.0.0.1:9/jwks.json' }, base, attacker.privateKey),
    ],
    [
      'x5u pointing at an attacker certificate',
      sign({ x5u: 'http://127.0.0.1:9/cert.pem' }, base, attacker.privateKey),
    ],
    ['jku on a genuinely signed token', sign({ jku: 'http://127.0.0.1:9/jwks.json' }, base)],
    ['crit header with an unknown extension', rawSign({ crit: ['exp-x'], 'exp-x': true })],
    ['kid with path traversal', sign({ kid: '../../../../../../dev/null' }, base)],
    ['kid with SQL injection', sign({ kid: "' OR '1'='1' --" }, base)],
    ['very long kid', sign({ kid: 'k'.repeat(5000) }, base)],
    ['kid with a NUL byte', sign({ kid: `${kid}\u0000` }, base)],
    ['numeric kid', sign({ kid: 1 }, base)],
    ['missing kid', sign({ kid: undefined }, base)],
    ['expired', sign({}, { ...base, iat: t - 3600, exp: t - 600 })],
    ['not yet valid (nbf in the future)', sign({}, { ...base, nbf: t + 600 })],
    ['missing exp', sign({}, without(base, 'exp'))],
    ['missing iat', sign({}, without(base, 'iat'))],
    ['missing sid', sign({}, without(base, 'sid'))],
    ['missing sub', sign({}, without(base, 'sub'))],
    ['missing jti', sign({}, without(base, 'jti'))],
    ['wrong issuer', sign({}, { ...base, iss: 'evil-issuer' })],
    ['wrong audience', sign({}, { ...base, aud: 'someone-else' })],
    ['refresh-token type (typ rt+jwt)', sign({ typ: 'rt+jwt' }, base)],
    ['generic typ JWT', sign({ typ: 'JWT' }, base)],
    ['missing typ', sign({ typ: undefined }, base)],
    ['service-token type', sign({ typ: 'service+jwt' }, base)],
    ['two segments', `${h}.${p}`],
    ['four segments', `${valid}.${s}`],
    ['non-base64url characters', `${h}.${p}!.${s}`],
    ['header that is not JSON', `${b64('not json')}.${p}.${s}`],
    ['payload that is not JSON', `${h}.${b64('not json')}.${s}`],
    ['payload that is a JSON array', `${h}.${json([1, 2])}.${s}`],
    ['empty string', ''],
    ['random text', 'hello'],
    ['huge token', `${h}.${'A'.repeat(20_000)}.${s}`],
  ]
  return Promise.all(attacks.map(async ([name, token]) => ({ name, token: await token })))
}
