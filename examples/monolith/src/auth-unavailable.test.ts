import { afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { BreakerState } from '@flotilla/sdk'
import { waitFor } from '@flotilla/streams/testing'
import { createTestMonolith, type TestMonolith } from './testing.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

/**
 * A local server in front of auth that, until `answer(app)`, takes every request and never answers, as a
 * stuck auth does. Counts the requests that reached it.
 */
const startStuckAuth = () => {
  let forwardTo: TestMonolith['auth'] | undefined
  const stuck: (() => void)[] = []
  let received = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      received++
      if (forwardTo) return forwardTo.app.handle(request)
      return new Promise<Response>((resolve) => {
        stuck.push(() => resolve(new Response(null, { status: 503 })))
      })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    received: () => received,
    answer(auth: TestMonolith['auth']) {
      forwardTo = auth
    },
    stop() {
      for (const release of stuck) release()
      server.stop(true)
    },
  }
}

let m: TestMonolith | undefined
let auth: ReturnType<typeof startStuckAuth> | undefined
afterEach(async () => {
  auth?.stop()
  await m?.cleanup()
  m = undefined
  auth = undefined
})

describe('login while auth is stuck', () => {
  it('fails with 503 AUTH_UNAVAILABLE, opens the breaker, and closes it once auth answers', async () => {
    auth = startStuckAuth()
    const states: BreakerState[] = []
    m = await createTestMonolith({
      authUrl: auth.url,
      authResilience: {
        timeoutMs: 200,
        consecutiveFailures: 2,
        // Long enough that the login right after the breaker opens (password check included) comes before
        // the trial call, on a loaded machine too; the recovery below waits for it on a condition.
        halfOpenAfterMs: 3000,
        onBreakerStateChange: (state) => states.push(state),
      },
    })
    const credentials = { email: 'stuck@example.com', password: 'a long password' }
    expect((await m.request('POST', '/register', credentials)).status).toBe(201)
    const login = () => m!.request('POST', '/login', { ...credentials, device: { id: 'laptop-1' } })

    // Two logins time out (opening a session is never retried: it is not idempotent)...
    for (let i = 1; i <= 2; i++) {
      const timedOut = await login()
      expect(timedOut.status).toBe(503)
      expect(timedOut.body.error).toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { reason: 'timeout' } })
      expect(auth.received()).toBe(i)
    }
    // ...which opens the breaker: the next login fails at once, without a call to auth.
    expect(states).toEqual(['open'])
    const refused = await login()
    expect(refused.status).toBe(503)
    expect(refused.body.error).toMatchObject({
      code: 'AUTH_UNAVAILABLE',
      details: { reason: 'circuit-open', retryAfterMs: 3000 },
    })
    expect(auth.received()).toBe(2)

    // Auth recovers: after the half-open time one trial login goes through and closes the breaker.
    auth.answer(m.auth)
    const recovered = await waitFor(
      async () => {
        const attempt = await login()
        return attempt.status === 200 ? attempt : null
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'a login once auth answers again' },
    )
    // On a loaded machine a trial login may reach auth yet time out at the monolith (200 ms): auth then saw the
    // device already, and the breaker went open → half-open more than once before it closed.
    expect(recovered.body).toMatchObject({ device: { id: 'laptop-1' } })
    expect(states.slice(0, 2)).toEqual(['open', 'half-open'])
    expect(states.at(-1)).toBe('closed')
  })
})
