import { describe, expect, it } from 'bun:test'
import { createHmac } from 'node:crypto'
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose'
import {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  parseKeyRing,
  SERVICE_TOKEN_TYPE,
  TokenError,
} from './service-token.ts'
import { inputsNotAnsweringAsync } from './testing.ts'

const SECRET = 'k1=an-adequately-long-secret-for-hs256-tokens!'
const ring = parseKeyRing(SECRET)
const key = ring.keys.get('k1')!
const verifier = createServiceTokenVerifier(ring, { audience: 'auth' })
const signer = createServiceTokenSigner(ring, 'notifications')

const now = () => Math.floor(Date.now() / 1000)
const seg = (value: object) => base64url.encode(JSON.stringify(value))

/** A correctly signed token with some part changed. */
const forge = (
  header: Record<string, unknown> = {},
  claims: Record<string, unknown> = {},
  signingKey: Uint8Array = key,
) =>
  new SignJWT({
    iss: 'notifications',
    sub: 'notifications',
    aud: 'auth',
    jti: 'j',
    iat: now(),
    exp: now() + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: SERVICE_TOKEN_TYPE, ...header } as { alg: string })
    .sign(signingKey)

/** A token from raw header and payload JSON text (duplicate keys and all), signed over exactly these segments. */
const rawToken = (headerJson: string, payloadJson: string, pad = { header: '', payload: '' }) => {
  const input = `${Buffer.from(headerJson).toString('base64url')}${pad.header}.${Buffer.from(payloadJson).toString('base64url')}${pad.payload}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}
const header = (extra = '') => `{"alg":"HS256","kid":"k1","typ":"${SERVICE_TOKEN_TYPE}"${extra}}`
const payload = (extra = '', aud = '"auth"') =>
  `{"iss":"notifications","sub":"notifications","aud":${aud},"jti":"j","iat":${now()},"exp":${now() + 60}${extra}}`

/** The status a refusal of `token` carries (401 for every bad token), or null when it was not refused. */
const refusalStatus = async (token: string): Promise<number | null> => {
  const error = await verifier.verify(token).catch((e: unknown) => e)
  return error instanceof TokenError ? error.status : null
}

const refused = async (token: string) => {
  expect(await refusalStatus(token)).toBe(401)
}

describe('parseKeyRing', () => {
  it('reads kid=secret pairs with the first one signing', () => {
    const r = parseKeyRing('new=0123456789abcdef0123456789abcdef,old=fedcba9876543210fedcba9876543210')
    expect(r.currentKid).toBe('new')
    expect([...r.keys.keys()]).toEqual(['new', 'old'])
  })

  it('derives the same kid for the same bare secret', () => {
    const secret = 'a bare secret, long enough for HS256, with = and , in it'
    expect(parseKeyRing(secret).currentKid).toBe(parseKeyRing(secret).currentKid)
    expect(parseKeyRing(secret).keys.size).toBe(1)
  })

  it('refuses short secrets', () => {
    expect(() => parseKeyRing('k=short')).toThrow(/shorter than 32 bytes/)
    expect(() => parseKeyRing('short')).toThrow(/shorter than 32 bytes/)
  })
})

describe('service tokens', () => {
  it('verifies a signed token and returns the calling service', async () => {
    const token = await signer.sign({ audience: 'auth' })
    expect((await verifier.verify(token)).service).toBe('notifications')
  })

  it('keeps verifying tokens signed with a previous key after rotation', async () => {
    const oldRing = parseKeyRing('k0=the-previous-secret-still-32-bytes-long')
    const rotated = parseKeyRing(
      'k1=an-adequately-long-secret-for-hs256-tokens!,k0=the-previous-secret-still-32-bytes-long',
    )
    const token = await createServiceTokenSigner(oldRing, 'audit').sign({ audience: 'auth' })
    expect((await createServiceTokenVerifier(rotated, { audience: 'auth' }).verify(token)).service).toBe(
      'audit',
    )
  })

  it('restricts issuers when asked', async () => {
    const only = createServiceTokenVerifier(ring, { audience: 'auth', issuers: ['audit'] })
    const error = await only.verify(await signer.sign({ audience: 'auth' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenError)
  })

  describe('refuses every attack with a TokenError (401), never another error', () => {
    it('wrong audience', async () => refused(await signer.sign({ audience: 'audit' })))
    it('alg none in any case', async () => {
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        await refused(
          `${seg({ alg, typ: SERVICE_TOKEN_TYPE, kid: 'k1' })}.${seg({ iss: 'x', sub: 'x', aud: 'auth', exp: now() + 60 })}.`,
        )
      }
    })
    it('stripped signature', async () => {
      const [h, p] = (await signer.sign({ audience: 'auth' })).split('.')
      await refused(`${h}.${p}.`)
      await refused(`${h}.${p}`)
    })
    it('tampered payload', async () => {
      const [h, , s] = (await signer.sign({ audience: 'auth' })).split('.')
      await refused(
        `${h}.${seg({ iss: 'auth', sub: 'auth', aud: 'auth', jti: 'j', iat: now(), exp: now() + 60 })}.${s}`,
      )
    })
    it('wrong key', async () => refused(await forge({}, {}, new TextEncoder().encode('x'.repeat(32)))))
    it('asymmetric algorithms (HS/RS confusion)', async () => {
      const { privateKey } = await generateKeyPair('RS256')
      const token = await new SignJWT({ iss: 'notifications', sub: 'notifications', aud: 'auth', jti: 'j' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: SERVICE_TOKEN_TYPE })
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey)
      await refused(token)
    })
    it('embedded jwk, jku and x5u headers', async () => {
      const { publicKey } = await generateKeyPair('ES256')
      await refused(await forge({ jwk: await exportJWK(publicKey) }))
      await refused(await forge({ jku: 'http://127.0.0.1:1/jwks.json' }))
      await refused(await forge({ x5u: 'http://127.0.0.1:1/cert.pem' }))
    })
    it('odd kid values', async () => {
      for (const kid of ['../../etc/passwd', "' OR 1=1--", 'k'.repeat(5000), '', 'K1'])
        await refused(await forge({ kid }))
      await refused(await forge({ kid: 42 }))
    })
    it('expired, not yet valid, missing exp, overlong lifetime', async () => {
      await refused(await forge({}, { exp: now() - 60, iat: now() - 120 }))
      await refused(await forge({}, { nbf: now() + 600 }))
      await refused(await forge({}, { exp: undefined }))
      await refused(await forge({}, { exp: now() + 86_400 }))
    })
    it('missing jti, subject other than issuer, wrong typ', async () => {
      await refused(await forge({}, { jti: undefined }))
      await refused(await forge({}, { sub: 'user_1' }))
      await refused(await forge({ typ: 'at+jwt' }))
    })
    it('an audience listing several services, or this one inside an array', async () => {
      await refused(await forge({}, { aud: ['auth', 'notifications', 'audit', 'analytics'] }))
      await refused(await forge({}, { aud: ['auth'] }))
      await refused(await forge({}, { aud: ['audit', 'auth'] }))
      await refused(rawToken(header(), payload('', '["auth"]')))
    })
    it('typ in another case or spelling', async () => {
      for (const typ of ['SERVICE+JWT', 'Service+JWT', 'application/service+jwt', 'service+jwt '])
        await refused(await forge({ typ }))
    })
    it('base64url that is not strict: padding, the other alphabet, non-canonical bits, on any segment', async () => {
      const token = await signer.sign({ audience: 'auth' })
      const [h, p, sig] = token.split('.') as [string, string, string]
      await refused(`${token}=`)
      await refused(`${token}==`)
      await refused(
        `${h}.${p}.${sig.replaceAll('-', '+').replaceAll('_', '/')}${/[-_]/.test(sig) ? '' : '+'}`,
      )
      await refused(`${h}.${p}.${sig} `)
      // The last of 43 characters carries 2 unused bits: flipping them spells the same 32 bytes differently.
      const last = sig.at(-1) as string
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const twin = alphabet[alphabet.indexOf(last) ^ 1] as string
      expect(Buffer.from(`${sig.slice(0, -1)}${twin}`, 'base64url')).toEqual(Buffer.from(sig, 'base64url'))
      await refused(`${h}.${p}.${sig.slice(0, -1)}${twin}`)
      // Padding on the header or payload, signed over exactly that input (so only the spelling is wrong).
      const headerJson = header()
      const payloadJson = payload()
      const padOf = (json: string) =>
        '='.repeat((4 - (Buffer.from(json).toString('base64url').length % 4)) % 4)
      expect(await verifier.verify(rawToken(headerJson, payloadJson))).toMatchObject({
        service: 'notifications',
      })
      if (padOf(headerJson))
        await refused(rawToken(headerJson, payloadJson, { header: padOf(headerJson), payload: '' }))
      if (padOf(payloadJson))
        await refused(rawToken(headerJson, payloadJson, { header: '', payload: padOf(payloadJson) }))
    })
    it('a header or payload that repeats a key (JSON.parse keeps the last)', async () => {
      await refused(rawToken(header(',"typ":"service+jwt"'), payload()))
      await refused(rawToken(header(',"alg":"HS256"'), payload()))
      await refused(rawToken(header(), payload(',"aud":"auth"', '"audit"')))
      await refused(rawToken(header(), payload(',"\u0061ud":"auth"', '"audit"')))
      await refused(rawToken(header(), payload(',"iss":"notifications"')))
    })
    it('a refused spelling of a remembered token: the checks run on every miss, before anything is kept', async () => {
      const cached = createServiceTokenVerifier(ring, { audience: 'auth' })
      const token = await signer.sign({ audience: 'auth' })
      await cached.verify(token)
      for (const variant of [`${token}=`, `${token.split('.')[0]}=.${token.split('.').slice(1).join('.')}`])
        expect(await cached.verify(variant).catch((e: unknown) => e)).toBeInstanceOf(TokenError)
      const other = createServiceTokenVerifier(ring, { audience: 'audit' })
      expect(await other.verify(token).catch((e: unknown) => e)).toBeInstanceOf(TokenError)
    })
    it('malformed segments', async () => {
      expect(
        await inputsNotAnsweringAsync(401, refusalStatus, [
          '',
          'a',
          'a.b',
          'a.b.c',
          '...',
          '%%%.%%%.%%%',
          `${seg({ alg: 'HS256' })}.!!!.x`,
          'x'.repeat(10_000),
        ]),
      ).toEqual([])
    })
  })
})
