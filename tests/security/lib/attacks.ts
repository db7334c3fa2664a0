/**
 * The JWT attack list of docs/pitfalls.md (RFC 8725, the jwt_tool list), built against one target: every token here
 * must be refused with 401 on every protected route.
 */
import { ed25519KeyPair, now, signJws, signSegments } from './jws.ts'
import { serviceToken, type Target, USER_AUDIENCE, USER_ISSUER, userToken } from './targets.ts'

export interface Attack {
  readonly name: string
  readonly token: string
}

const parts = (token: string) => token.split('.') as [string, string, string]
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const decode = (segment: string) =>
  JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>

/** Flips one character of the signature (keeps it valid base64url). */
const tamperSignature = (token: string) => {
  const [h, p, s] = parts(token)
  const i = Math.floor(s.length / 2)
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`
}
/** Rewrites claims but keeps the original signature. */
const tamperPayload = (token: string, change: Record<string, unknown>) => {
  const [h, p, s] = parts(token)
  return `${h}.${b64({ ...decode(p), ...change })}.${s}`
}
const strip = (token: string) => {
  const [h, p] = parts(token)
  return `${h}.${p}.`
}
const withAlgNone = (token: string, alg: string) => {
  const [h, p] = parts(token)
  return `${b64({ ...decode(h), alg })}.${p}.`
}

const ODD_KIDS: readonly unknown[] = [
  '../../../../etc/passwd',
  "' OR 1=1--",
  'k\u0000id',
  'x'.repeat(5000),
  '',
  123,
  null,
  ['array'],
  { $ne: null },
]

/** Malformed tokens, whatever the target. */
const malformed = (): Attack[] => [
  { name: 'two segments', token: 'eyJhbGciOiJIUzI1NiJ9.e30' },
  { name: 'four segments', token: 'a.b.c.d' },
  { name: 'empty segments', token: '..' },
  { name: 'not base64', token: '%%%.$$$.^^^' },
  { name: 'header is an array', token: `${b64(['x'])}.${b64({})}.c2ln` },
  { name: 'header is not JSON', token: `${Buffer.from('{nope').toString('base64url')}.${b64({})}.c2ln` },
  {
    name: 'payload is not JSON',
    token: `${b64({ alg: 'HS256' })}.${Buffer.from('nope').toString('base64url')}.c2ln`,
  },
  { name: 'a 100 KB token', token: `${b64({ alg: 'HS256' })}.${'A'.repeat(100_000)}.c2ln` },
  { name: 'whitespace', token: ' ' },
]

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** A service token from raw JSON text for its header and payload, signed with the target's own key. */
const rawServiceToken = (t: Target, header: string, payload: string, padding = { header: '', payload: '' }) =>
  signSegments(
    `${Buffer.from(header).toString('base64url')}${padding.header}`,
    `${Buffer.from(payload).toString('base64url')}${padding.payload}`,
    { kind: 'hs256', secret: t.service.secret },
  )

/**
 * Service tokens signed with the key the target trusts, that still must not pass (issue 18, item 4): an
 * audience naming every service, `typ` in another case, non-strict base64url, repeated JSON keys.
 */
const serviceShapeAttacks = async (t: Target, valid: string): Promise<Attack[]> => {
  const [h, p, s] = parts(valid)
  const header = `{"alg":"HS256","typ":"service+jwt","kid":${JSON.stringify(t.service.kid)}}`
  const claims = `"iss":"monolith","sub":"monolith","iat":${now()},"nbf":${now()},"exp":${now() + 60},"jti":"${crypto.randomUUID()}"`
  const payload = (aud: string, extra = '') => `{${claims},"aud":${aud}${extra}}`
  const own = JSON.stringify(t.service.audience)
  // The same header and payload with `=` padding, signed over that very input, so only the spelling is wrong.
  const padded = (json: string) =>
    '='.repeat((4 - (Buffer.from(json).toString('base64url').length % 4)) % 4) || '=='
  return [
    {
      name: 'service aud naming all four services',
      token: await serviceToken(t, { aud: ['auth', 'notifications', 'audit', 'analytics'] }),
    },
    {
      name: 'service aud as a one-element array',
      token: await serviceToken(t, { aud: [t.service.audience] }),
    },
    { name: 'service typ SERVICE+JWT', token: await serviceToken(t, {}, { typ: 'SERVICE+JWT' }) },
    {
      name: 'service typ application/service+jwt',
      token: await serviceToken(t, {}, { typ: 'application/service+jwt' }),
    },
    { name: 'service signature with a trailing =', token: `${valid}=` },
    {
      // The last of 43 characters carries 2 unused bits: its twin spells the same 32 bytes.
      name: 'service signature with unused bits set',
      token: `${h}.${p}.${s.slice(0, -1)}${B64URL[B64URL.indexOf(s.at(-1) ?? 'A') ^ 1]}`,
    },
    {
      name: 'service signature in the standard alphabet',
      token: `${h}.${p}.${s.replaceAll('-', '+').replaceAll('_', '/')}/`,
    },
    {
      name: 'service header with padding',
      token: await rawServiceToken(t, header, payload(own), { header: padded(header), payload: '' }),
    },
    {
      name: 'service payload with padding',
      token: await rawServiceToken(t, header, payload(own), { header: '', payload: padded(payload(own)) }),
    },
    {
      name: 'service header repeating typ',
      token: await rawServiceToken(t, header.replace('}', ',"typ":"service+jwt"}'), payload(own)),
    },
    {
      name: 'service payload repeating aud (first names another service)',
      token: await rawServiceToken(t, header, payload('"someone-else"', `,"aud":${own}`)),
    },
  ]
}

/**
 * What a `valid` token becomes without the key: `alg: none` in four spellings, the signature stripped or altered,
 * and the payload altered with `escalation`.
 */
const forgeries = (
  kind: 'service' | 'user',
  valid: string,
  escalation: Record<string, unknown>,
): Attack[] => [
  ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
    name: `${kind} alg ${alg}`,
    token: withAlgNone(valid, alg),
  })),
  { name: `${kind} stripped signature`, token: strip(valid) },
  { name: `${kind} tampered signature`, token: tamperSignature(valid) },
  { name: `${kind} tampered payload`, token: tamperPayload(valid, escalation) },
]

/** Service-token attacks (HS256, `typ: service+jwt`). */
const serviceAttacks = async (t: Target): Promise<Attack[]> => {
  const valid = await serviceToken(t)
  const wrongSecret = new TextEncoder().encode('an-attacker-chosen-secret-0123456789abcdef')
  const list: Attack[] = [
    ...forgeries('service', valid, { iss: 'admin', sub: 'admin' }),
    {
      name: 'service wrong secret',
      token: await signJws(decode(parts(valid)[0]), decode(parts(valid)[1]), {
        kind: 'hs256',
        secret: wrongSecret,
      }),
    },
    {
      name: 'service expired',
      token: await serviceToken(t, { iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }),
    },
    { name: 'service not yet valid', token: await serviceToken(t, { nbf: now() + 3600, exp: now() + 3660 }) },
    { name: 'service without exp', token: await serviceToken(t, { exp: undefined }) },
    { name: 'service wrong audience', token: await serviceToken(t, { aud: 'someone-else' }) },
    { name: 'service lifetime of a day', token: await serviceToken(t, { exp: now() + 86_400 }) },
    { name: 'service embedded jwk', token: await serviceToken(t, {}, { jwk: { kty: 'oct', k: 'AAAA' } }) },
    { name: 'service jku', token: await serviceToken(t, {}, { jku: 'http://127.0.0.1:9/jwks.json' }) },
    { name: 'service x5u', token: await serviceToken(t, {}, { x5u: 'http://127.0.0.1:9/cert.pem' }) },
    { name: 'service crit header', token: await serviceToken(t, {}, { crit: ['exp'] }) },
    { name: 'service typ of an access token', token: await serviceToken(t, {}, { typ: 'at+jwt' }) },
    ...(await Promise.all(
      ODD_KIDS.map(async (kid) => ({
        name: `service kid ${JSON.stringify(kid).slice(0, 30)}`,
        token: await serviceToken(t, {}, { kid }),
      })),
    )),
    ...(await serviceShapeAttacks(t, valid)),
  ]
  return list
}

/** User access-token attacks (EdDSA, `typ: at+jwt`). `jku` points at `jkuUrl`, which must never be fetched. */
const userAttacks = async (t: Target, jkuUrl: string): Promise<Attack[]> => {
  const user = t.user
  if (!user) return []
  const valid = await userToken(t)
  const own = await ed25519KeyPair(user.kid)
  const ownSigned = async (header: Record<string, unknown>) =>
    signJws({ alg: 'EdDSA', typ: 'at+jwt', kid: user.kid, ...header }, decode(parts(valid)[1]), {
      kind: 'ed25519',
      key: own.privateKey,
    })
  const confusion: Attack[] = []
  if (user.publicJwk) {
    const x = (user.publicJwk as { x?: string }).x ?? ''
    for (const [label, secret] of [
      ['raw public key', Buffer.from(x, 'base64url')],
      ['public JWK JSON', Buffer.from(JSON.stringify(user.publicJwk))],
    ] as const) {
      confusion.push({
        name: `user HS256 signed with the ${label}`,
        token: await signJws({ alg: 'HS256', typ: 'at+jwt', kid: user.kid }, decode(parts(valid)[1]), {
          kind: 'hs256',
          secret: new Uint8Array(secret),
        }),
      })
    }
  }
  const claims = (c: Record<string, unknown>) => userToken(t, { claims: c })
  return [
    ...forgeries('user', valid, { sub: 'u_admin', scope: 'admin' }),
    { name: 'user wrong key, same kid', token: await ownSigned({}) },
    ...confusion,
    { name: 'user embedded jwk', token: await ownSigned({ jwk: own.jwk }) },
    { name: 'user jku', token: await ownSigned({ jku: jkuUrl }) },
    { name: 'user x5u', token: await ownSigned({ x5u: jkuUrl }) },
    ...(await Promise.all(
      ODD_KIDS.map(async (kid) => ({
        name: `user kid ${JSON.stringify(kid).slice(0, 30)}`,
        token: await userToken(t, { header: { kid } }),
      })),
    )),
    { name: 'user expired', token: await claims({ iat: now() - 7200, exp: now() - 3600 }) },
    { name: 'user not yet valid', token: await claims({ nbf: now() + 3600 }) },
    { name: 'user without exp', token: await claims({ exp: undefined }) },
    { name: 'user without sub', token: await claims({ sub: undefined }) },
    { name: 'user without jti', token: await claims({ jti: undefined }) },
    { name: 'user wrong issuer', token: await claims({ iss: 'https://evil.example' }) },
    { name: 'user wrong audience', token: await claims({ aud: 'someone-else' }) },
    { name: 'user issuer/audience swapped', token: await claims({ iss: USER_AUDIENCE, aud: USER_ISSUER }) },
    { name: 'user refresh token as access token', token: await userToken(t, { header: { typ: 'rt+jwt' } }) },
    { name: 'user token without typ', token: await userToken(t, { header: { typ: undefined } }) },
    { name: 'user service-token typ', token: await userToken(t, { header: { typ: 'service+jwt' } }) },
  ]
}

/** Every attack against one target. */
export const attacksOn = async (t: Target, jkuUrl: string): Promise<Attack[]> => [
  ...malformed(),
  ...(await serviceAttacks(t)),
  ...(await userAttacks(t, jkuUrl)),
]
