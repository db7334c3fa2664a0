/**
 * The four apps as attack targets, each built by its own test fixture (real Redis, temp libSQL files) or, where
 * the fixture keeps its user-token key to itself (audit, analytics), by the same steps with a key we hold, so
 * claim-level attacks (expired, wrong issuer, refresh token…) can be signed with the key the app trusts.
 */
import { afterAll, beforeAll } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestApp as createAnalyticsTestApp } from '@flotilla/analytics/testing'
import { createApp as createAuditApp } from '@flotilla/audit'
import {
  createAuditMetrics,
  createLibsqlStore,
  createRecordEventHandler,
  createRedisAnchors,
} from '@flotilla/audit/testing'
import {
  TEST_SERVICE_SECRET as AUTH_SECRET,
  createTestApp as createAuthTestApp,
} from '@flotilla/auth/testing'
import { type AnyEvent, createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import {
  createTestApp as createNotificationsTestApp,
  TEST_SERVICE_SECRET as NOTIFICATIONS_SECRET,
} from '@flotilla/notifications/testing'
import {
  createAccessTokenVerifier,
  createHttpRuntime,
  createMetrics,
  DEV_SERVICE_TOKEN_SECRET,
} from '@flotilla/service-kit'
import { createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName } from '@flotilla/streams/testing'
import { ed25519KeyPair, now, type Signing, signJws } from './jws.ts'

const REDIS_URL = TEST_REDIS_URL
export const USER_ISSUER = 'flotilla-auth'
export const USER_AUDIENCE = 'flotilla'

/** The service-token secret of a ring made from one bare secret, and its key id (as `parseKeyRing` derives it). */
const serviceKey = (secret: string) => {
  const ring = parseKeyRing(secret)
  return { kid: ring.currentKid, secret: ring.keys.get(ring.currentKid) as Uint8Array }
}

export interface UserSigner {
  readonly kid: string
  readonly signing: Signing
  /** The public JWK the app trusts (for the HS256-with-the-public-key confusion). */
  readonly publicJwk?: JsonWebKey
  /** Valid claims for a user of tenant `tid` with the scope the app needs. */
  claims(o: { userId?: string; tenantId?: string }): Promise<Record<string, unknown>>
}

export interface Target {
  readonly name: 'auth' | 'notifications' | 'audit' | 'analytics'
  handle(request: Request): Promise<Response>
  /** Service tokens: secret, key id, audience. */
  readonly service: { readonly kid: string; readonly secret: Uint8Array; readonly audience: string }
  /** User access tokens, where the app accepts them. */
  readonly user?: UserSigner
  close(): Promise<void>
}

/** Signs a valid service token for the target (HS256, `typ: service+jwt`). */
export const serviceToken = (
  t: Target,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) =>
  signJws(
    { alg: 'HS256', typ: 'service+jwt', kid: t.service.kid, ...header },
    {
      iss: 'monolith',
      sub: 'monolith',
      aud: t.service.audience,
      iat: now(),
      nbf: now(),
      exp: now() + 60,
      jti: crypto.randomUUID(),
      ...claims,
    },
    { kind: 'hs256', secret: t.service.secret },
  )

/** Signs a valid user access token for the target (EdDSA, `typ: at+jwt`). */
export const userToken = async (
  t: Target,
  o: {
    userId?: string
    tenantId?: string
    claims?: Record<string, unknown>
    header?: Record<string, unknown>
  } = {},
) => {
  const user = t.user
  if (!user) throw new Error(`${t.name} takes no user tokens`)
  return signJws(
    { alg: 'EdDSA', typ: 'at+jwt', kid: user.kid, ...o.header },
    { ...(await user.claims(o)), ...o.claims },
    user.signing,
  )
}

const baseUserClaims = (scope: string, o: { userId?: string; tenantId?: string }) => ({
  iss: USER_ISSUER,
  aud: USER_AUDIENCE,
  sub: o.userId ?? 'u_attacker',
  sid: 'sess-1',
  scope,
  ...(o.tenantId ? { tid: o.tenantId } : {}),
  jti: crypto.randomUUID(),
  iat: now(),
  exp: now() + 300,
})

/** The user signer of an app that trusts `pair` (kid `security-key`) and wants `scope`. */
const ed25519UserSigner = (pair: Awaited<ReturnType<typeof ed25519KeyPair>>, scope: string): UserSigner => ({
  kid: 'security-key',
  signing: { kind: 'ed25519', key: pair.privateKey },
  publicJwk: pair.jwk,
  claims: async (o) => baseUserClaims(scope, o),
})

export const authTarget = async (): Promise<
  Target & { readonly fixture: Awaited<ReturnType<typeof createAuthTestApp>> }
> => {
  const fixture = await createAuthTestApp()
  const key = await fixture.core.keyRing.signingKey()
  const jwks = (await (
    await fixture.app.handle(new Request('http://auth.test/.well-known/jwks.json'))
  ).json()) as {
    keys: JsonWebKey[]
  }
  return {
    name: 'auth',
    fixture,
    handle: (r) => fixture.app.handle(r),
    service: { ...serviceKey(AUTH_SECRET), audience: 'auth' },
    user: {
      kid: key.kid,
      signing: { kind: 'ed25519', key: key.privateKey },
      ...(jwks.keys[0] ? { publicJwk: jwks.keys[0] } : {}),
      // Auth checks the session behind the token: a real one, created for the user.
      async claims(o) {
        const userId = o.userId ?? 'u_attacker'
        const created = await fixture.request('POST', '/v1/sessions', {
          token: await fixture.serviceToken(),
          body: { userId, ...(o.tenantId ? { tenantId: o.tenantId } : {}) },
        })
        const body = (await created.json()) as { accessToken?: string }
        const payload = JSON.parse(
          Buffer.from((body.accessToken ?? '..').split('.')[1] ?? '', 'base64url').toString() || '{}',
        )
        return { ...payload, jti: crypto.randomUUID() }
      },
    },
    close: () => fixture.close(),
  }
}

const notificationsTarget = async (): Promise<Target> => {
  const fixture = await createNotificationsTestApp()
  return {
    name: 'notifications',
    handle: (r) => fixture.app.handle(r),
    service: { ...serviceKey(NOTIFICATIONS_SECRET), audience: 'notifications' },
    close: () => fixture.close(),
  }
}

const AUDIT_SECRET = 'security-suite-audit-service-secret-0123456789abcdef'

export const auditTarget = async (): Promise<
  Target & { ingest(events: readonly AnyEvent[]): Promise<unknown> }
> => {
  const dir = await mkdtemp(join(tmpdir(), 'security-audit-'))
  const store = await createLibsqlStore({ url: `file:${join(dir, 'audit.db')}` })
  const redis = createRedisConnection(REDIS_URL, 'command')
  const prefix = `test:security:audit:${crypto.randomUUID()}:`
  const stream = uniqueStreamName('security-audit')
  const pair = await ed25519KeyPair('security-key')
  const metrics = createMetrics('audit')
  const ring = parseKeyRing(AUDIT_SECRET)
  const app = createAuditApp({
    store,
    anchors: createRedisAnchors(redis, prefix),
    http: createHttpRuntime({ name: 'audit', metrics, serviceKeys: ring, redis, stream }),
    auditMetrics: createAuditMetrics(metrics),
    auth: {
      serviceVerifier: createServiceTokenVerifier(ring, { audience: 'audit' }),
      accessTokenVerifier: createAccessTokenVerifier({
        jwks: { keys: [pair.jwk] },
        issuer: USER_ISSUER,
        audience: USER_AUDIENCE,
      }),
      requiredScope: 'audit:read',
    },
  })
  const handler = createRecordEventHandler({ store })
  return {
    name: 'audit',
    handle: (r) => app.handle(r),
    service: { ...serviceKey(AUDIT_SECRET), audience: 'audit' },
    user: ed25519UserSigner(pair, 'audit:read'),
    ingest: (events) => handler.handleBatch(events.map((event, i) => ({ streamId: `0-${i + 1}`, event }))),
    async close() {
      await store.close()
      await cleanupStream(redis, stream)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export const analyticsTarget = async (): Promise<Target> => {
  const pair = await ed25519KeyPair('security-key')
  const fixture = await createAnalyticsTestApp({ trustKeys: [pair.jwk] })
  return {
    name: 'analytics',
    handle: (r) => fixture.app.handle(r),
    service: { ...serviceKey(DEV_SERVICE_TOKEN_SECRET), audience: 'analytics' },
    user: ed25519UserSigner(pair, 'analytics:read'),
    close: () => fixture.close(),
  }
}

/** Every target, built one after the other. */
const allTargets = async (): Promise<Target[]> => [
  await authTarget(),
  await notificationsTarget(),
  await auditTarget(),
  await analyticsTarget(),
]

/**
 * Starts the four targets before the calling test file's tests and closes them after it; returns the lookup by
 * app name its tests use (call it inside a test or hook, once the targets are up).
 */
export const useAllTargets = (): ((name: Target['name']) => Target) => {
  let targets: Target[] = []
  beforeAll(async () => {
    targets = await allTargets()
  }, 60_000)
  afterAll(async () => {
    for (const t of targets) await t.close()
  })
  return (name) => targets.find((t) => t.name === name) as Target
}
