/**
 * Password change in the monolith, through its outbox: auth ends every session of the user (inactive at
 * introspection), audit records each `auth.session.revoked` under the request's correlation id, analytics counts them.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { analyticsCount, auditRecords, introspect, monolith, signIn, signUpAndIn } from './harness/api.ts'
import { eventually } from './harness/http.ts'
import { type Stack, startStack } from './harness/stack.ts'

// Real processes on a shared 2-core machine: flows wait up to 20 s for the consumers.
setDefaultTimeout(60_000)

const needed = ['auth', 'audit', 'analytics'] as const
let stack: Stack

describe(`password change through the outbox (${needed.join(', ')})`, () => {
  beforeAll(async () => {
    stack = await startStack({ apps: needed })
  }, 120_000)
  afterAll(() => stack?.stop())

  it('ends every session of the user, and audit and analytics see each revocation under one correlation id', async () => {
    const user = { email: 'grace@example.com', password: 'correct horse battery' }
    const laptop = await signUpAndIn(stack, user, { id: 'laptop-1', name: 'Laptop' })
    const phone = await signIn(stack, user, { id: 'phone-1', name: 'Phone' })
    expect((await introspect(stack, laptop.accessToken)).active).toBe(true)
    expect((await introspect(stack, phone.accessToken)).active).toBe(true)
    const revokedBefore = await analyticsCount(stack, 'auth.session.revoked')

    const correlationId = `pw-${crypto.randomUUID()}`
    const changed = await monolith(
      stack,
      'POST',
      '/change-password',
      { currentPassword: user.password, newPassword: 'a brand new password' },
      { authorization: `Bearer ${laptop.accessToken}`, 'x-correlation-id': correlationId },
    )
    expect(changed.status).toBe(204)

    // Both sessions end: their access tokens stop introspecting as active.
    await eventually('both sessions inactive', async () => {
      const states = await Promise.all([laptop, phone].map((s) => introspect(stack, s.accessToken)))
      return states.every((s) => !s.active)
    })

    // Audit: the monolith's fact and both revocations, all under the request's correlation id.
    const records = await eventually('audit records of the change', async () => {
      const found = await auditRecords(stack, { correlationId })
      return found.filter((r) => r.type === 'auth.session.revoked').length === 2 ? found : undefined
    })
    const changedRecord = records.find((r) => r.type === 'user.password.changed')
    expect(changedRecord?.source).toBe('monolith')
    const revoked = records.filter((r) => r.type === 'auth.session.revoked')
    expect(revoked.map((r) => r.payload.sessionId).sort()).toEqual([laptop.sessionId, phone.sessionId].sort())
    expect(revoked.every((r) => r.payload.reason === 'password_changed')).toBe(true)
    expect(revoked.every((r) => r.causationId === changedRecord?.eventId)).toBe(true)

    // Analytics counted both revocations.
    await eventually('analytics counts the revocations', async () =>
      (await analyticsCount(stack, 'auth.session.revoked')) === revokedBefore + 2 ? true : undefined,
    )

    // The new password opens a session that stays live.
    const again = await signIn(
      stack,
      { ...user, password: 'a brand new password' },
      { id: 'laptop-1', name: 'Laptop' },
    )
    expect((await introspect(stack, again.accessToken)).active).toBe(true)
  })
})
