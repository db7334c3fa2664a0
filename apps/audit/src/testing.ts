/**
 * Test fixture: `createTestApp(overrides)` builds the real app on a temp libSQL file, real Redis (unique
 * stream and key prefix), a service key ring, and a local Ed25519 JWKS for user access tokens.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyEvent,
  createServiceTokenSigner,
  createServiceTokenVerifier,
  parseKeyRing,
} from '@flotilla/contracts'
import { createAccessTokenVerifier, createHttpRuntime, createMetrics } from '@flotilla/service-kit'
import { createRedisConnection } from '@flotilla/streams'
import { cleanupStream, uniqueStreamName } from '@flotilla/streams/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createApp } from './app.ts'
import { createRedisAnchors } from './chain/checkpoints.ts'
import { createRecordEventHandler } from './handlers/record-event.ts'
import { createAuditMetrics } from './metrics.ts'
import { createLibsqlStore } from './store/libsql/store.ts'

const TEST_SECRET = 'audit-test-service-token-secret-0123456789abcdef'
const ISSUER = 'flotilla-auth'
const AUDIENCE = 'flotilla'

export interface TestAppOverrides {
  /** Records per export page. */
  readonly exportPageSize?: number
  /** Use this libSQL database instead of a fresh one (it is left in place on close). */
  readonly dbUrl?: string
}

/** Builds an isolated audit app; call `close()` to remove its files and keys. */
export const createTestApp = async (overrides: TestAppOverrides = {}) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'audit-app-'))
  const store = await createLibsqlStore({ url: overrides.dbUrl ?? `file:${join(dataDir, 'audit.db')}` })
  const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'command')
  const prefix = `test:audit:${crypto.randomUUID()}:`
  const stream = uniqueStreamName('audit-app')
  const anchors = createRedisAnchors(redis, prefix)
  const ring = parseKeyRing(TEST_SECRET)
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'EdDSA', use: 'sig' }
  const metrics = createMetrics('audit')
  const app = createApp({
    store,
    anchors,
    http: createHttpRuntime({ name: 'audit', metrics, serviceKeys: ring, redis, stream }),
    auditMetrics: createAuditMetrics(metrics),
    auth: {
      serviceVerifier: createServiceTokenVerifier(ring, { audience: 'audit' }),
      accessTokenVerifier: createAccessTokenVerifier({
        jwks: { keys: [jwk] },
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
      requiredScope: 'audit:read',
    },
    ...(overrides.exportPageSize ? { exportPageSize: overrides.exportPageSize } : {}),
  })
  const handler = createRecordEventHandler({ store })
  const signer = createServiceTokenSigner(ring, 'ops')

  return {
    app,
    store,
    redis,
    anchors,
    stream,
    /** A service token for the audit service. */
    serviceToken: () => signer.sign({ audience: 'audit' }),
    /** A user access token as the auth service would issue it. */
    userToken: (o: { tenantId?: string; scope?: string; userId?: string } = {}) =>
      new SignJWT({
        sid: 'sess-1',
        scope: o.scope ?? 'audit:read',
        ...(o.tenantId ? { tid: o.tenantId } : {}),
      })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'test-key' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(o.userId ?? 'u_reader')
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    /** GET a path with a bearer token through `app.handle`. */
    get: (path: string, token?: string) =>
      app.handle(
        new Request(
          `http://localhost${path}`,
          token ? { headers: { authorization: `Bearer ${token}` } } : {},
        ),
      ),
    /** Records events as the consumer would (one batch). */
    ingest: (events: readonly AnyEvent[]) =>
      handler.handleBatch(events.map((event, i) => ({ streamId: `0-${i + 1}`, event }))),
    async close() {
      await store.close()
      await cleanupStream(redis, stream)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>
