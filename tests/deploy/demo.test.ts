import { afterAll, describe, expect, it } from 'bun:test'
import { decodeEntry } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { bunCommand, cleanupStream, testProcessEnv, uniqueStreamName } from '@flotilla/streams/testing'
import { ROOT } from '../../scripts/lib/apps.ts'
import { planDemo } from '../../scripts/lib/demo-plan.ts'
import { freePort } from './lib/nginx.ts'
import { runScript } from './lib/run-script.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = createRedisConnection(REDIS_URL, 'command')
const stream = uniqueStreamName('demo')

afterAll(async () => {
  await cleanupStream(redis, stream)
  await closeConnection(redis)
})

describe('bun run demo', () => {
  it('plans the same day for the same seed, with every kind of step', () => {
    const now = Date.parse('2026-01-10T12:00:00Z')
    const a = planDemo({ users: 30, hours: 24, seed: 7, now })
    const b = planDemo({ users: 30, hours: 24, seed: 7, now })
    const strip = (steps: typeof a) =>
      steps.map((s) =>
        s.kind === 'event' ? { ...s.event, id: '' } : { ...s, fallback: { ...s.fallback, id: '' } },
      )
    expect(strip(a)).toEqual(strip(b))
    const types = new Set(a.map((s) => (s.kind === 'event' ? s.event.type : 'session')))
    for (const type of [
      'user.registered',
      'notification.requested',
      'user.login.succeeded',
      'session',
      'order.placed',
    ])
      expect(types).toContain(type)
    for (const step of a) {
      const at = Date.parse(step.kind === 'event' ? step.event.occurredAt : step.fallback.occurredAt)
      expect(at).toBeLessThanOrEqual(now)
      expect(at).toBeGreaterThan(now - 25 * 3_600_000)
    }
  })

  it('publishes a mix the contract accepts, each event carrying a traceparent, when auth is not running', async () => {
    const { stdout, stderr, code } = await runScript('scripts/demo.ts', ['--users', '6', '--seed', '3'], {
      env: { REDIS_URL, EVENTS_STREAM: stream, AUTH_URL: `http://127.0.0.1:${freePort()}` },
    })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain('auth not reachable')
    const entries = await redis.xrange(stream, '-', '+')
    const events = entries.map(([, fields]) => {
      const record: Record<string, string> = {}
      for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!
      const decoded = decodeEntry(record)
      if (!decoded.ok) throw new Error(JSON.stringify(decoded.error))
      return decoded.event
    })
    expect(stdout).toContain(`${events.length} events`)
    const types = new Set(events.map((e) => e.type))
    for (const type of [
      'user.registered',
      'notification.requested',
      'user.login.succeeded',
      'auth.device.added',
    ])
      expect(types).toContain(type)
    expect(events.some((e) => e.type === 'order.placed' || e.type === 'cart.abandoned')).toBe(true)
    for (const event of events) expect(event.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  })

  it('keeps publishing journeys of now in --live mode until --duration has passed', async () => {
    const live = `${stream}-live`
    const startedAt = Date.now()
    const proc = Bun.spawn(bunCommand('scripts/demo.ts', '--live', '--rate', '20', '--duration', '500ms'), {
      cwd: ROOT,
      env: testProcessEnv({
        REDIS_URL,
        EVENTS_STREAM: live,
        AUTH_URL: `http://127.0.0.1:${freePort()}`,
        NO_COLOR: '1',
      }),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      expect(await proc.exited).toBe(0)
      const entries = await redis.xrange(live, '-', '+')
      const registered = entries.filter(([, fields]) => fields[1] === 'user.registered')
      expect(registered.length).toBeGreaterThanOrEqual(2)
      for (const [, fields] of entries) {
        const at = Date.parse((JSON.parse(fields[3]!) as { occurredAt: string }).occurredAt)
        expect(at).toBeGreaterThan(startedAt - 15 * 60_000)
        expect(at).toBeLessThanOrEqual(Date.now())
      }
    } finally {
      await cleanupStream(redis, live)
    }
  })
})
