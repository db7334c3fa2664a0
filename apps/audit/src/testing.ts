/**
 * Test fixture (`@flotilla/audit/testing`): `createTestApp(overrides)` builds the real app on a temp libSQL file,
 * real Redis (unique stream and key prefix), a service key ring, and a local Ed25519 JWKS for user access tokens.
 * Outside tests also get the pieces they assemble their own app from.
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
import { type TestUserTokenOptions, testRequests, type UserTokenTestApp } from '@flotilla/service-kit/testing'
import { createRedisConnection } from '@flotilla/streams'
import {
  cleanupStream,
  deleteKeysMatching,
  TEST_REDIS_URL,
  uniqueStreamName,
} from '@flotilla/streams/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { type AuditApp, createApp } from './app.ts'
import { createRedisAnchors } from './chain/checkpoints.ts'
import { createRecordEventHandler } from './handlers/record-event.ts'
import { createAuditMetrics } from './metrics.ts'
import { createLibsqlStore } from './store/libsql/store.ts'

export { createRedisAnchors } from './chain/checkpoints.ts'
export { eventCursor, toFilter } from './events/model.ts'
export { createRecordEventHandler } from './handlers/record-event.ts'
export { createAuditMetrics } from './metrics.ts'
export { recordInputOf } from './records/from-event.ts'
export { auditService } from './service.ts'
export { createLibsqlStore } from './store/libsql/store.ts'
export { createPostgresStore } from './store/postgres/store.ts'

const TEST_SECRET = 'audit-test-service-token-secret-0123456789abcdef'
const ISSUER = 'flotilla-auth'
const AUDIENCE = 'flotilla'

export interface TestAppOverrides {
  /** Records per export page. */
  readonly exportPageSize?: number
  /** Use this libSQL database instead of a fresh one (it is left in place on close). */
  readonly dbUrl?: string
}

/** The audit fixture: the kit's one `TestApp` shape with user tokens, plus what it records into. */
export interface TestApp extends UserTokenTestApp<AuditApp> {
  readonly store: Awaited<ReturnType<typeof createLibsqlStore>>
  readonly redis: ReturnType<typeof createRedisConnection>
  readonly anchors: ReturnType<typeof createRedisAnchors>
  readonly stream: string
  /** Records events as the consumer would (one batch). */
  ingest(events: readonly AnyEvent[]): ReturnType<ReturnType<typeof createRecordEventHandler>['handleBatch']>
}

/** Builds an isolated audit app; call `close()` to remove its files and keys. */
export const createTestApp = async (overrides: TestAppOverrides = {}): Promise<TestApp> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'audit-app-'))
  const store = await createLibsqlStore({ url: overrides.dbUrl ?? `file:${join(dataDir, 'audit.db')}` })
  const redis = createRedisConnection(TEST_REDIS_URL, 'command')
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
  let closing: Promise<void> | undefined

  return {
    app,
    store,
    redis,
    anchors,
    stream,
    /** A service token for the audit service (or for `audience`). */
    serviceToken: (audience = 'audit') => signer.sign({ audience }),
    /** A user access token as the auth service would issue it. */
    userToken: (o: TestUserTokenOptions = {}) =>
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
    ...testRequests(app, 'http://localhost'),
    /** Records events as the consumer would (one batch). */
    ingest: (events: readonly AnyEvent[]) =>
      handler.handleBatch(events.map((event, i) => ({ streamId: `0-${i + 1}`, event }))),
    close() {
      closing ??= (async () => {
        await store.close()
        await cleanupStream(redis, stream)
        await deleteKeysMatching(redis, `${prefix}*`)
        redis.disconnect()
        await rm(dataDir, { recursive: true, force: true })
      })()
      return closing
    },
  }
}
