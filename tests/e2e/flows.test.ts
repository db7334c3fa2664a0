/**
 * Flows across all four services with the monolith in front, asserted only through public HTTP APIs:
 * a new device's sign-in email, refresh-token theft, and one trace followed from the monolith into each service.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import {
  analyticsCount,
  auditRecords,
  deliveriesOf,
  introspect,
  monolith,
  outboxFor,
  signIn,
  streamEvents,
} from './harness/api.ts'
import { call, eventually } from './harness/http.ts'
import { startCollector } from './harness/otlp.ts'
import { APP_NAMES, type Stack, startStack } from './harness/stack.ts'

// Real processes on a shared 2-core machine: flows wait up to 20 s for the consumers.
setDefaultTimeout(60_000)

const collector = startCollector()
let stack: Stack

/** Registers a user and waits until notifications knows their address (its welcome email was handled). */
const register = async (email: string) => {
  const password = 'correct horse battery'
  const res = await monolith<{ userId: string }>(stack, 'POST', '/register', { email, password })
  expect(res.status).toBe(201)
  const userId = res.body.userId
  await eventually(`welcome email handled for ${email}`, async () =>
    (await deliveriesOf(stack, userId)).some((d) => d.template === 'welcome') ? true : undefined,
  )
  return { userId, email, password }
}

const traced = (correlationId: string) => {
  const traceId = crypto.randomUUID().replaceAll('-', '')
  return {
    traceId,
    headers: { 'x-correlation-id': correlationId, traceparent: `00-${traceId}-${'1'.repeat(16)}-01` },
  }
}

describe('flows across the four services', () => {
  beforeAll(async () => {
    stack = await startStack({
      apps: APP_NAMES,
      env: {
        all: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint },
        // The stolen token is replayed at once: no grace window for the immediately previous token.
        auth: { AUTH_REFRESH_GRACE_SECONDS: '0' },
        // new-sign-in is a digest (10 minutes by default): a short window, so its email follows the login at once.
        notifications: { NOTIFICATIONS_DIGEST_WINDOW_MS: '300', NOTIFICATIONS_DUE_POLL_MS: '200' },
      },
    })
  }, 120_000)
  afterAll(async () => {
    await stack?.stop()
    collector.stop()
  })

  it('sends a "new sign-in" email for a new device, audited under the login’s correlation id and counted', async () => {
    const user = await register('new-device@example.com')
    const addedBefore = await analyticsCount(stack, 'auth.device.added')
    const { headers } = traced(`login-${crypto.randomUUID()}`)
    const login = await signIn(stack, user, { id: 'tablet-1', name: 'Tablet' }, headers)
    expect(login.device).toEqual({ id: 'tablet-1', isNew: true })

    const mail = await eventually('the new sign-in email in the outbox', async () =>
      (await outboxFor(stack, user.email)).find((m) => m.subject?.startsWith('New sign-in')),
    )
    expect(mail.channel).toBe('email')
    expect(mail.body).toContain('Tablet')

    const records = await eventually('audit records of the login', async () => {
      const found = await auditRecords(stack, { correlationId: headers['x-correlation-id'] })
      const types = new Set(found.map((r) => r.type))
      return types.has('auth.device.added') && types.has('notification.sent') ? found : undefined
    })
    const added = records.find((r) => r.type === 'auth.device.added')
    expect(added?.payload).toMatchObject({ userId: user.userId, deviceId: 'tablet-1' })
    expect(records.find((r) => r.type === 'notification.sent')?.causationId).toBeTruthy()

    await eventually('analytics counts the new device', async () =>
      (await analyticsCount(stack, 'auth.device.added')) === addedBefore + 1 ? true : undefined,
    )

    // The same device again: no second email.
    const again = await signIn(stack, user, { id: 'tablet-1', name: 'Tablet' })
    expect(again.device).toEqual({ id: 'tablet-1', isNew: false })
  })

  it('revokes the family on refresh-token reuse and sends the critical alert despite the opt-out, audited and counted', async () => {
    const user = await register('stolen-token@example.com')
    const optOut = await call('PUT', `${stack.url('notifications')}/v1/users/${user.userId}/preferences`, {
      token: await stack.serviceToken('notifications'),
      body: { optOuts: [{ category: 'security', channel: 'email' }] },
    })
    expect(optOut.status).toBe(200)
    const reusedBefore = await analyticsCount(stack, 'auth.refresh.reused')

    const session = await signIn(stack, user, { id: 'laptop-9', name: 'Laptop' })
    // The owner rotates the refresh token; the thief replays the spent one.
    const rotated = await call<{ accessToken: string; refreshToken: string }>(
      'POST',
      `${stack.url('auth')}/v1/sessions/refresh`,
      { body: { refreshToken: session.refreshToken } },
    )
    expect(rotated.status).toBe(200)
    const correlationId = `theft-${crypto.randomUUID()}`
    const replay = await call<{ error: { code: string } }>(
      'POST',
      `${stack.url('auth')}/v1/sessions/refresh`,
      {
        body: { refreshToken: session.refreshToken },
        headers: { 'x-correlation-id': correlationId },
      },
    )
    expect(replay.status).toBe(401)
    expect(replay.body.error.code).toBe('REFRESH_TOKEN_REUSED')

    // The whole family is gone: the owner's new tokens are dead too.
    expect((await introspect(stack, rotated.body.accessToken)).active).toBe(false)
    const ownerRefresh = await call('POST', `${stack.url('auth')}/v1/sessions/refresh`, {
      body: { refreshToken: rotated.body.refreshToken },
    })
    expect(ownerRefresh.status).toBe(401)

    const alert = await eventually('the security alert in the outbox', async () =>
      (await outboxFor(stack, user.email)).find((m) => m.subject?.startsWith('Security alert')),
    )
    expect(alert.channel).toBe('email')
    const deliveries = await eventually('both deliveries in the log', async () => {
      const found = await deliveriesOf(stack, user.userId)
      const templates = new Set(found.map((d) => d.template))
      return templates.has('new-sign-in') && templates.has('security-alert') ? found : undefined
    })
    // Opted out of security emails: the new sign-in was suppressed, the critical alert was sent.
    expect(deliveries.find((d) => d.template === 'new-sign-in')?.status).toBe('suppressed')
    expect(deliveries.find((d) => d.template === 'security-alert')).toMatchObject({
      critical: true,
      status: 'sent',
    })

    const records = await eventually('audit records of the reuse', async () => {
      const found = await auditRecords(stack, { correlationId })
      const types = new Set(found.map((r) => r.type))
      return types.has('auth.refresh.reused') && types.has('notification.sent') ? found : undefined
    })
    expect(records.find((r) => r.type === 'auth.refresh.reused')?.payload).toMatchObject({
      userId: user.userId,
      sessionId: session.sessionId,
    })
    await eventually('analytics counts the reuse', async () =>
      (await analyticsCount(stack, 'auth.refresh.reused')) === reusedBefore + 1 ? true : undefined,
    )
  })

  describe('one trace id from the monolith request into each service', () => {
    // Every app's tracing is set up by the kit's runner, so each must report spans of the monolith's trace.
    let traceId = ''
    let monolithSpanId = ''
    let correlationId = ''

    beforeAll(async () => {
      const user = await register('traced@example.com')
      correlationId = `trace-${crypto.randomUUID()}`
      const trace = traced(correlationId)
      traceId = trace.traceId
      const login = await monolith<{ accessToken: string }>(
        stack,
        'POST',
        '/login',
        { email: user.email, password: user.password, device: { id: 'traced-1', name: 'Traced' } },
        trace.headers,
      )
      expect(login.status).toBe(200)
      // The monolith continues the caller's trace.
      expect(login.headers.get('traceparent')?.split('-')[1]).toBe(traceId)
      monolithSpanId = login.headers.get('traceparent')?.split('-')[2] ?? ''
    }, 60_000)

    it('carries the trace id on the stream from the monolith’s events into auth’s', async () => {
      const caused = await eventually('the login’s events on the stream', async () => {
        const found = (await streamEvents(stack)).filter((e) => e.correlationId === correlationId)
        return found.some((e) => e.type === 'auth.device.added') ? found : undefined
      })
      const traceOf = (type: string) => caused.find((e) => e.type === type)?.traceparent?.split('-')[1]
      expect(traceOf('user.login.succeeded')).toBe(traceId)
      expect(traceOf('auth.session.created')).toBe(traceId)
      expect(traceOf('auth.device.added')).toBe(traceId)
    })
    it('carries the trace id on into the notification.sent of the new-sign-in email', async () => {
      const sent = await eventually('notification.sent of the login on the stream', async () =>
        (await streamEvents(stack)).find(
          (e) => e.correlationId === correlationId && e.type === 'notification.sent',
        ),
      )
      expect(sent.traceparent?.split('-')[1]).toBe(traceId)
    })

    it('auth’s server span is a child of the monolith’s call', async () => {
      const child = await eventually('an auth span under the monolith’s span', async () =>
        collector.spans().find((span) => span.service === 'auth' && span.parentSpanId === monolithSpanId),
      )
      expect(child.traceId).toBe(traceId)
    })

    for (const app of APP_NAMES) {
      it(`${app} reports spans of the monolith's trace`, async () => {
        await eventually(`spans of ${app} in trace ${traceId}`, async () =>
          collector.servicesIn(traceId).has(app) ? true : undefined,
        )
      })
    }
  })
})
