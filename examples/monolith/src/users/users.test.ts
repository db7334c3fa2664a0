import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { flotillaOutbox } from '@flotilla/sdk'
import { drizzle } from 'drizzle-orm/postgres-js'
import { type TestMonolith, useTestMonolith } from '../testing.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

const openMonolith = useTestMonolith()

const ada = { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' }

const signUpAndIn = async (monolith: TestMonolith, device = { id: 'laptop-1', name: 'Laptop' }) => {
  const registered = await monolith.request('POST', '/register', ada)
  const login = await monolith.request('POST', '/login', { email: ada.email, password: ada.password, device })
  return { userId: registered.body.userId as string, login }
}

const NEW_PASSWORD = 'a brand new password'

/** Changes Ada's password with her access token: the right current password unless `body` says otherwise. */
const changePassword = (monolith: TestMonolith, accessToken: string, body: Record<string, unknown> = {}) =>
  monolith.request(
    'POST',
    '/change-password',
    { currentPassword: ada.password, newPassword: NEW_PASSWORD, ...body },
    { authorization: `Bearer ${accessToken}` },
  )

const passwordChanges = async (monolith: TestMonolith) =>
  (await monolith.relayed()).filter((e) => e.type === 'user.password.changed')

describe('register', () => {
  it('creates the user and publishes user.registered through the outbox with the request’s correlation id', async () => {
    const m = await openMonolith()
    const res = await m.request('POST', '/register', ada, { 'x-correlation-id': 'corr-register' })
    expect(res.status).toBe(201)
    const events = await m.relayed()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'user.registered',
      source: 'monolith',
      correlationId: 'corr-register',
      payload: { userId: res.body.userId, email: ada.email, name: 'Ada' },
    })
  })

  it('refuses a taken email with 409 and writes no second event', async () => {
    const m = await openMonolith()
    await m.request('POST', '/register', ada)
    const again = await m.request('POST', '/register', { ...ada, email: 'ADA@example.com' })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('EMAIL_TAKEN')
    expect(await drizzle({ client: m.db.sql }).select().from(flotillaOutbox)).toHaveLength(1)
  })

  it('gives one of two racing registrations of the same email a 409, and writes one event', async () => {
    const m = await openMonolith()
    const results = await Promise.all([
      m.request('POST', '/register', ada),
      m.request('POST', '/register', ada),
    ])
    expect(results.map((r) => r.status).sort()).toEqual([201, 409])
    expect(await drizzle({ client: m.db.sql }).select().from(flotillaOutbox)).toHaveLength(1)
  })

  it('answers 422 with a machine-readable code for a short password', async () => {
    const m = await openMonolith()
    const res = await m.request('POST', '/register', { email: 'x@example.com', password: 'short' })
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
  })
})

describe('login', () => {
  it('opens a session in auth for a new device', async () => {
    const m = await openMonolith()
    const { userId, login } = await signUpAndIn(m)
    expect(login.status).toBe(200)
    expect(login.body).toMatchObject({ userId, device: { id: 'laptop-1', isNew: true } })
    const [added] = await m.auth.core.published('auth.device.added')
    expect(added?.payload).toMatchObject({ userId, deviceId: 'laptop-1' })
    // The same trace continues into auth's event.
    expect(added?.traceparent?.split('-')[1]).toBe(login.headers.get('traceparent')?.split('-')[1])
  })

  it('refuses a wrong password with 401 and opens no session', async () => {
    const m = await openMonolith()
    await m.request('POST', '/register', ada)
    const res = await m.request('POST', '/login', { email: ada.email, password: 'wrong password!' })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS')
    expect(await m.auth.core.published('auth.session.created')).toHaveLength(0)
  })
})

describe('change password', () => {
  it('needs a live access token', async () => {
    const m = await openMonolith()
    const res = await m.request('POST', '/change-password', {
      currentPassword: 'x',
      newPassword: 'a new password',
    })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('UNAUTHORIZED')
  })

  it('stores the new password and publishes user.password.changed v2 through the outbox', async () => {
    const m = await openMonolith()
    const { userId, login } = await signUpAndIn(m)
    const res = await changePassword(m, login.body.accessToken)
    expect(res.status).toBe(204)
    const changed = await passwordChanges(m)
    expect(changed.map((e) => [e.version, e.payload])).toEqual([[2, { userId, reason: 'change' }]])
    const old = await m.request('POST', '/login', { email: ada.email, password: ada.password })
    expect(old.status).toBe(401)
    const fresh = await m.request('POST', '/login', { email: ada.email, password: NEW_PASSWORD })
    expect(fresh.status).toBe(200)
  })

  it('names the session to keep when asked to stay signed in here (v2)', async () => {
    const m = await openMonolith()
    const { userId, login } = await signUpAndIn(m)
    const res = await changePassword(m, login.body.accessToken, { keepThisSession: true })
    expect(res.status).toBe(204)
    const changed = await passwordChanges(m)
    expect(changed.map((e) => e.payload)).toEqual([
      { userId, reason: 'change', keepSessionId: login.body.sessionId },
    ])
  })

  it('publishes v1 while configured to (a producer not yet moved to v2)', async () => {
    const m = await openMonolith({ passwordChangedVersion: 1 })
    const { userId, login } = await signUpAndIn(m)
    const res = await changePassword(m, login.body.accessToken)
    expect(res.status).toBe(204)
    const changed = await passwordChanges(m)
    expect(changed.map((e) => [e.version, e.payload])).toEqual([[1, { userId, via: 'settings' }]])
  })

  it('refuses a wrong current password and changes nothing', async () => {
    const m = await openMonolith()
    const { login } = await signUpAndIn(m)
    const res = await changePassword(m, login.body.accessToken, { currentPassword: 'not my password' })
    expect(res.status).toBe(401)
    expect(await passwordChanges(m)).toHaveLength(0)
  })
})
