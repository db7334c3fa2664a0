import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditService } from '@flotilla/audit'
import {
  createEvent,
  createServiceTokenVerifier,
  MAX_SERVICE_TOKEN_TTL_SECONDS,
  parseKeyRing,
} from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET, startService } from '@flotilla/service-kit'
import { closeConnection, createPublisher, createRedisConnection } from '@flotilla/streams'
import { uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { APPS } from '../../scripts/lib/apps.ts'
import { cleanupRun, isolatedEnv } from './lib/isolation.ts'
import { runApp } from './lib/run-app.ts'
import { runScript } from './lib/run-script.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = createRedisConnection(REDIS_URL, 'command')
const run = uniqueStreamName('ops-http')
const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-ops-http-'))
const stops: (() => Promise<unknown>)[] = []

afterAll(async () => {
  for (const stop of stops) await stop()
  await cleanupRun(redis, run)
  await closeConnection(redis)
  rmSync(dataDir, { recursive: true, force: true })
})

const ops = (args: string[], env: Record<string, string> = {}) =>
  runScript('scripts/ops.ts', args, { env: { REDIS_URL, ...env } })

describe('bun run ops token / outbox', () => {
  it('mints, by default, a service token the named app accepts, and refuses an unknown app', async () => {
    const { stdout, code } = await ops(['token', 'audit'], { SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET })
    expect(code).toBe(0)
    // The app's own verifier with its defaults: the default lifetime is the longest it accepts.
    const verifier = createServiceTokenVerifier(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), { audience: 'audit' })
    const verified = await verifier.verify(stdout.trim())
    expect(verified.service).toBe('ops')
    expect(Number(verified.claims.exp) - Number(verified.claims.iat)).toBe(MAX_SERVICE_TOKEN_TTL_SECONDS)
    // And the audit service itself, started as main.ts starts it with the same secret, serves its log for it.
    const audit = await startService(auditService, {
      env: {
        REDIS_URL,
        DATA_DIR: join(dataDir, 'token-audit'),
        SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET,
        LOG_LEVEL: 'silent',
        ...isolatedEnv(run),
      },
      port: false,
      consume: false,
      telemetry: false,
    })
    try {
      const events = await audit.app.handle(
        new Request('http://localhost/v1/audit/events', {
          headers: { authorization: `Bearer ${stdout.trim()}` },
        }),
      )
      expect(events.status).toBe(200)
    } finally {
      await audit.close()
    }
    const shorter = await ops(['token', 'audit', '--ttl', '120'], {
      SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET,
    })
    expect((await verifier.verify(shorter.stdout.trim())).claims.exp).toBeDefined()
    const unknown = await ops(['token', 'billing'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no service "billing"')
  })

  it('refuses a token --ttl longer than the apps accept, naming the cap', async () => {
    const tooLong = await ops(['token', 'audit', '--ttl', String(MAX_SERVICE_TOKEN_TTL_SECONDS + 1)])
    expect(tooLong.code).toBe(1)
    expect(tooLong.stdout).toBe('')
    expect(tooLong.stderr).toContain(`give --ttl ${MAX_SERVICE_TOKEN_TTL_SECONDS} or less`)
    expect((await ops(['token', 'audit', '--ttl', '1.5'])).stderr).toContain('whole number of seconds')
  })

  const notifications = APPS.find((a) => a.name === 'notifications')!
  it("lists the email notifications stored in the local outbox for a user's registration", async () => {
    const app = await runApp(notifications, { run, dataDir, env: { LOG_LEVEL: 'error' } })
    stops.push(async () => {
      app.proc.kill('SIGTERM')
      await app.proc.exited
    })
    const publisher = createPublisher({ redis: createRedisConnection(REDIS_URL, 'producer'), stream: run })
    await publisher.publish(
      createEvent(
        'user.registered',
        { userId: 'u_ops_1', email: 'ops.one@example.com', name: 'Ops' },
        { source: 'monolith' },
      ),
    )
    const env = { NOTIFICATIONS_URL: app.url }
    const result = await waitFor(
      async () => {
        const listed = await ops(['outbox'], env)
        return listed.stdout.includes('ops.one@example.com') ? listed : null
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'the welcome email in the outbox' },
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/time\s+channel\s+to\s+subject/)
    expect(result.stdout).toMatch(/email\s+ops\.one@example\.com\s+Welcome/)
  }, 30_000)
})
