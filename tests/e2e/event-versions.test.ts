/**
 * Several versions of `user.password.changed` side by side, nothing dropped: the monolith publishes v1 (an old
 * producer), then v2 after its redeploy, and auth revokes the sessions both times (v1 upcast); a v99 appended raw
 * lands in auth's dead letters as UNSUPPORTED_VERSION (HTTP inspector, `bun run ops`), and audit keeps all three
 * exactly as published.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { ENTRY_FIELDS } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import {
  type AuditRecordView,
  auditRecords,
  introspect,
  monolith,
  signIn,
  signUpAndIn,
} from './harness/api.ts'
import { call, eventually } from './harness/http.ts'
import { ROOT } from './harness/processes.ts'
import { type Stack, startStack } from './harness/stack.ts'

setDefaultTimeout(90_000)

const needed = ['auth', 'audit'] as const
let stack: Stack

type VersionedRecord = AuditRecordView & { readonly version: number }

interface DeadLetterView {
  readonly type: string
  readonly event: string
  readonly error: { code: string; message: string }
}

/** Changes the password from one session and waits until every listed session is inactive. */
const changePassword = async (token: string, from: string, to: string, sessions: readonly string[]) => {
  const changed = await monolith(
    stack,
    'POST',
    '/change-password',
    { currentPassword: from, newPassword: to },
    { authorization: `Bearer ${token}` },
  )
  expect(changed.status).toBe(204)
  await eventually('every session inactive', async () => {
    const states = await Promise.all(sessions.map((s) => introspect(stack, s)))
    return states.every((s) => !s.active)
  })
}

const ops = async (args: string[]) => {
  const proc = Bun.spawn(['bun', 'scripts/ops.ts', '--stream', stack.stream, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.redisEnv, NO_COLOR: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  return { stdout, code }
}

describe(`event versions side by side (${needed.join(', ')}, monolith)`, () => {
  beforeAll(async () => {
    // The monolith starts as a producer not yet moved to v2.
    stack = await startStack({ apps: needed, env: { monolith: { PASSWORD_CHANGED_VERSION: '1' } } })
  }, 120_000)
  afterAll(() => stack?.stop())

  it('revokes on v1 and v2, dead-letters v99 as UNSUPPORTED_VERSION, and audit keeps all three as published', async () => {
    const user = {
      email: `ada-${crypto.randomUUID().slice(0, 8)}@example.com`,
      password: 'first password 123',
    }
    const laptop = await signUpAndIn(stack, user, { id: 'laptop-1', name: 'Laptop' })
    const phone = await signIn(stack, user, { id: 'phone-1', name: 'Phone' })

    // v1, from the old producer: auth handles v2 and gets it upcast.
    await changePassword(laptop.accessToken, user.password, 'second password 456', [
      laptop.accessToken,
      phone.accessToken,
    ])

    // The producer's redeploy: v2 from now on.
    await stack.restartMonolith({ PASSWORD_CHANGED_VERSION: '2' })
    const again = await signIn(
      stack,
      { ...user, password: 'second password 456' },
      { id: 'laptop-1', name: 'Laptop' },
    )
    const tablet = await signIn(
      stack,
      { ...user, password: 'second password 456' },
      { id: 'tablet-1', name: 'Tablet' },
    )
    await changePassword(again.accessToken, 'second password 456', 'third password 789', [
      again.accessToken,
      tablet.accessToken,
    ])

    // v99, appended raw by a producer ahead of every consumer.
    const v99 = {
      id: crypto.randomUUID(),
      type: 'user.password.changed',
      version: 99,
      source: 'monolith',
      occurredAt: new Date().toISOString(),
      payload: { userId: laptop.userId, quantumReason: 'entangled' },
    }
    const redis = createRedisConnection(stack.redis, 'command')
    try {
      await redis.xadd(
        stack.stream,
        '*',
        ENTRY_FIELDS.type,
        v99.type,
        ENTRY_FIELDS.event,
        JSON.stringify(v99),
      )
    } finally {
      await closeConnection(redis)
    }

    // Auth's dead letters hold it, with the code, over HTTP…
    const letters = await eventually('v99 in auth dead letters', async () => {
      const res = await call<{ items: DeadLetterView[] }>('GET', `${stack.url('auth')}/v1/dead-letters`, {
        token: await stack.serviceToken('auth'),
      })
      const found = res.body.items.filter((d) => d.error.code === 'UNSUPPORTED_VERSION')
      return found.length > 0 ? found : undefined
    })
    expect(letters).toHaveLength(1)
    expect(JSON.parse(letters[0]!.event)).toEqual(v99)
    expect(letters[0]!.error.message).toContain('v99')

    // …and through the ops CLI.
    const list = await ops(['dlq', 'list', 'auth'])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('UNSUPPORTED_VERSION')
    const status = await ops(['--json', 'status'])
    const groups = (JSON.parse(status.stdout) as { groups: { group: string; unsupportedVersion: number }[] })
      .groups
    expect(groups.find((g) => g.group === 'auth')?.unsupportedVersion).toBe(1)

    // Audit stored the three events as they were published: versions and payloads untouched.
    const records = await eventually('audit has the three versions', async () => {
      const found = (await auditRecords(stack, { type: 'user.password.changed' })) as VersionedRecord[]
      return found.length === 3 ? found : undefined
    })
    const byVersion = new Map(records.map((r) => [r.version, r.payload]))
    expect([...byVersion.keys()].sort((a, b) => a - b)).toEqual([1, 2, 99])
    expect(byVersion.get(1)).toEqual({ userId: laptop.userId, via: 'settings' })
    expect(byVersion.get(2)).toEqual({ userId: laptop.userId, reason: 'change' })
    expect(byVersion.get(99)).toEqual(v99.payload)
  })
})
