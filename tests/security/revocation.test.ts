/**
 * A stolen or signed-out access token must stop working everywhere at once, not only at auth: after a logout, a
 * password change, a refresh-token reuse or an emergency key retirement, audit and analytics (started by the
 * runner, verifying against auth's real JWKS) refuse the token. Each wait is bounded generously (5 s; the
 * mechanism answers in milliseconds, see bench/revocation.ts) — before this, the token kept answering 200 until
 * it expired (15 minutes) or the JWKS cache did (10 minutes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { TEST_REDIS_URL, waitFor } from '@flotilla/streams/testing'
import { type Stack, startStack } from './lib/stack.ts'

const BOUND = { timeoutMs: 5000, intervalMs: 10 }
let stack: Stack
beforeAll(async () => {
  stack = await startStack()
}, 30_000)
afterAll(async () => {
  await stack.close()
})

const accepted = { audit: 200, analytics: 200 }
const refused = { audit: 401, analytics: 401 }
const refusedEverywhere = (token: string, what: string) =>
  waitFor(
    async () => {
      const s = await stack.statuses(token)
      return s.audit === 401 && s.analytics === 401
    },
    { ...BOUND, message: `audit and analytics to refuse the token after ${what}` },
  )

describe('revocation reaches every service', () => {
  it('refuses the access token of a signed-out session at audit and analytics', async () => {
    const pair = await stack.signIn('u-logout')
    const other = await stack.signIn('u-logout')
    expect(await stack.statuses(pair.accessToken)).toEqual(accepted)
    expect((await stack.authCall('DELETE', `/v1/sessions/${pair.sessionId}`)).status).toBe(200)
    await refusedEverywhere(pair.accessToken, 'a logout')
    expect(await stack.statuses(pair.accessToken)).toEqual(refused)
    // Only that session: the user's other session goes on.
    expect(await stack.statuses(other.accessToken)).toEqual(accepted)
  })

  it('refuses every token of a user after user.password.changed, and accepts a sign-in made after it', async () => {
    const before = await stack.signIn('u-password')
    expect(await stack.statuses(before.accessToken)).toEqual(accepted)
    // The change happens a second after the sign-in (tokens carry whole seconds).
    const occurredAt = new Date(Date.now() + 1000).toISOString()
    const redis = createRedisConnection(TEST_REDIS_URL, 'producer')
    try {
      await createPublisher({ redis, stream: stack.stream }).publish(
        createEvent(
          'user.password.changed',
          { userId: 'u-password', reason: 'change' },
          { source: 'monolith', occurredAt },
        ),
      )
    } finally {
      redis.disconnect()
    }
    await refusedEverywhere(before.accessToken, 'a password change')
    await Bun.sleep(Math.max(0, Date.parse(occurredAt) + 1000 - Date.now()))
    const after = await stack.signIn('u-password')
    expect(await stack.statuses(after.accessToken)).toEqual(accepted)
  })

  it('refuses the access tokens of a session whose refresh token was reused', async () => {
    const first = await stack.signIn('u-reuse')
    const refresh = (token: string) => stack.authCall('POST', '/v1/sessions/refresh', { refreshToken: token })
    const second = (await (await refresh(first.refreshToken)).json()) as typeof first
    const third = (await (await refresh(second.refreshToken)).json()) as typeof first
    expect(await stack.statuses(third.accessToken)).toEqual(accepted)
    // The first refresh token, spent twice: an attacker replaying a stolen token. The family is revoked.
    const replay = await refresh(first.refreshToken)
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('REFRESH_TOKEN_REUSED')
    await refusedEverywhere(third.accessToken, 'a refresh-token reuse')
  })

  it('refuses tokens of a retired signing key at once, and accepts tokens of the new key', async () => {
    const old = await stack.signIn('u-keys')
    expect(await stack.statuses(old.accessToken)).toEqual(accepted)
    const rotated = await stack.authCall('POST', '/v1/keys/rotate', { retirePrevious: true })
    expect(rotated.status).toBe(200)
    expect(((await rotated.json()) as { retired: string[] }).retired.length).toBeGreaterThan(0)
    await refusedEverywhere(old.accessToken, 'a key retirement')
    const fresh = await stack.signIn('u-keys')
    await waitFor(
      async () => {
        const s = await stack.statuses(fresh.accessToken)
        return s.audit === 200 && s.analytics === 200
      },
      { ...BOUND, message: 'tokens of the new key to be accepted' },
    )
  })
})
