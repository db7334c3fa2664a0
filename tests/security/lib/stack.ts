/**
 * Auth, audit and analytics started by the runner from their own declarations, sharing one events stream and one
 * Redis, with audit and analytics verifying user tokens against auth's real JWKS over HTTP — the production
 * wiring, so an attack that relies on a service not hearing about a revocation is tried against what ships.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyticsService } from '@flotilla/analytics'
import { auditService } from '@flotilla/audit'
import { authService } from '@flotilla/auth'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { createLogger, DEV_SERVICE_TOKEN_SECRET, type Logger, startService } from '@flotilla/service-kit'
import { createRedisConnection } from '@flotilla/streams'
import { deleteKeysMatching, TEST_REDIS_URL, uniqueStreamName } from '@flotilla/streams/testing'

type Running = Awaited<ReturnType<typeof startService>>

export interface Stack {
  readonly stream: string
  readonly auth: Running
  readonly audit: Running | undefined
  readonly analytics: Running | undefined
  /** A request to auth with a monolith service token. */
  authCall(method: string, path: string, body?: unknown): Promise<Response>
  /** A GET to audit or analytics with a monolith service token. */
  serviceCall(service: 'audit' | 'analytics', path: string): Promise<Response>
  /** Starts a session with the scopes audit and analytics ask of users; returns its token pair. */
  signIn(userId: string): Promise<TokenPair>
  /** The status audit and analytics answer a user route with this access token. */
  statuses(accessToken: string): Promise<{ audit: number; analytics: number }>
  close(): Promise<void>
}

export interface TokenPair {
  readonly sessionId: string
  readonly accessToken: string
  readonly refreshToken: string
}

const TENANT = 't-revocation'

/** The last hour, as the summary route's query. */
const summaryRange = () => {
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000)
  const from = new Date(to.getTime() - 3600_000)
  return new URLSearchParams({ from: from.toISOString(), to: to.toISOString() }).toString()
}

export const startStack = async (
  o: { redisUrl?: string; logger?: Logger; withReaders?: boolean; readersConsume?: boolean } = {},
): Promise<Stack> => {
  const redisUrl = o.redisUrl ?? TEST_REDIS_URL
  const stream = uniqueStreamName('security-revocation')
  const prefix = `test:security:revocation:${crypto.randomUUID().slice(0, 8)}`
  const dir = await mkdtemp(join(tmpdir(), 'security-revocation-'))
  const logger = (name: string) => o.logger ?? createLogger({ service: name, level: 'silent' })
  const common = { REDIS_URL: redisUrl, EVENTS_STREAM: stream, DATA_DIR: dir, LOG_LEVEL: 'silent' }
  const options = (name: string) => ({
    telemetry: false,
    logger: logger(name),
    instance: `${name}-${prefix}`,
  })
  const auth = await startService(authService, {
    env: { ...common, AUTH_REDIS_PREFIX: `${prefix}:auth:` },
    port: 0,
    ...options('auth'),
  })
  const jwks = `http://127.0.0.1:${auth.port}/.well-known/jwks.json`
  const withReaders = o.withReaders !== false
  const audit = withReaders
    ? await startService(auditService, {
        env: { ...common, AUDIT_REDIS_PREFIX: `${prefix}:audit:`, AUTH_JWKS_URL: jwks },
        port: false,
        consume: false,
        runJobs: false,
        ...options('audit'),
      })
    : undefined
  const analytics = withReaders
    ? await startService(analyticsService, {
        env: {
          ...common,
          ANALYTICS_REDIS_PREFIX: `${prefix}:analytics`,
          ANALYTICS_JOBS_ENABLED: 'false',
          AUTH_JWKS_URL: jwks,
        },
        port: false,
        consume: o.readersConsume === true,
        runJobs: false,
        ...options('analytics'),
      })
    : undefined
  const signer = createServiceTokenSigner(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), 'monolith')

  const authCall = async (method: string, path: string, body?: unknown) =>
    auth.app.handle(
      new Request(`http://auth.test${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await signer.sign({ audience: 'auth' })}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    )
  const asUser = (app: Running['app'], path: string, token: string) =>
    app.handle(new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } }))

  return {
    stream,
    auth,
    audit,
    analytics,
    authCall,
    async serviceCall(service, path) {
      const running = service === 'audit' ? audit : analytics
      if (!running) throw new Error(`${service} is not running`)
      return running.app.handle(
        new Request(`http://${service}.test${path}`, {
          headers: { authorization: `Bearer ${await signer.sign({ audience: service })}` },
        }),
      )
    },
    async signIn(userId) {
      const response = await authCall('POST', '/v1/sessions', {
        userId,
        tenantId: TENANT,
        scopes: ['audit:read', 'analytics:read'],
      })
      if (response.status !== 201) throw new Error(`sign-in: ${response.status} ${await response.text()}`)
      return (await response.json()) as TokenPair
    },
    async statuses(accessToken) {
      if (!audit || !analytics) throw new Error('the stack runs without audit and analytics')
      const [a, b] = await Promise.all([
        asUser(audit.app, '/v1/audit/events', accessToken),
        asUser(analytics.app, `/v1/stats/summary?${summaryRange()}`, accessToken),
      ])
      return { audit: a.status, analytics: b.status }
    },
    async close() {
      await analytics?.close()
      await audit?.close()
      await auth.close()
      const redis = createRedisConnection(redisUrl, 'command', { maxRetriesPerRequest: 1, lazyConnect: true })
      redis.on('error', () => {})
      try {
        await redis.connect()
        await deleteKeysMatching(redis, `${prefix}*`)
        await deleteKeysMatching(redis, `*${stream}*`)
      } catch {
        // The Redis of a test that killed it holds nothing to clean.
      } finally {
        redis.disconnect()
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}
