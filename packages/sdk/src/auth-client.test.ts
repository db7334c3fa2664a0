import { afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { createTestApp, TEST_SERVICE_SECRET, type TestApp } from '../../../apps/auth/src/testing.ts'
import { createAuthClient } from './auth-client.ts'
import { loadFlotillaConfig } from './config.ts'
import { createServiceTokens } from './service-tokens.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

let auth: TestApp | undefined
afterEach(async () => {
  await auth?.close()
  auth = undefined
})

// The real auth app, served through app.handle (no socket).
const clientFor = (app: TestApp, secret = TEST_SERVICE_SECRET) =>
  createAuthClient({
    baseUrl: 'http://auth.test',
    signer: createServiceTokens(loadFlotillaConfig({ SERVICE_TOKEN_SECRET: secret })),
    headers: () => ({ 'x-correlation-id': 'corr-sdk-test' }),
    fetcher: ((input: RequestInfo | URL, init?: RequestInit) =>
      app.app.handle(new Request(input, init))) as typeof fetch,
  })

describe('auth client', () => {
  it('opens a session and introspects its access token, typed end to end', async () => {
    auth = await createTestApp()
    const client = clientFor(auth)
    const created = await client.v1.sessions.post({
      userId: 'u_sdk',
      device: { id: 'laptop-1', name: 'Laptop' },
    })
    expect(created.status).toBe(201)
    if (!created.data) throw new Error(`no session: ${JSON.stringify(created.error)}`)
    expect(created.data.device).toEqual({ id: 'laptop-1', isNew: true })
    const checked = await client.v1.tokens.introspect.post({ token: created.data.accessToken })
    expect(checked.data).toMatchObject({ active: true, sub: 'u_sdk', sid: created.data.sessionId })
    // The correlation id travelled with the call into the event auth published.
    const [added] = await auth.core.published('auth.device.added')
    expect(added?.correlationId).toBe('corr-sdk-test')
  })

  it('is refused with 401 when its service token is signed with another secret', async () => {
    auth = await createTestApp()
    const client = clientFor(auth, 'a-different-secret-that-is-long-enough-0123456')
    const created = await client.v1.sessions.post({ userId: 'u_sdk' })
    expect(created.status).toBe(401)
    expect(created.data).toBeNull()
  })
})
