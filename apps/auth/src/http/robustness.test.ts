import { beforeAll, describe, expect, it } from 'bun:test'
import { useFixture } from '@flotilla/service-kit/testing'
import fc from 'fast-check'
import { createTestApp } from '../testing.ts'

const t = useFixture(() => createTestApp(), 'all')
let service: string
beforeAll(async () => {
  service = await t.serviceToken()
})

// Strings that look like tokens: JWT-ish segments, our refresh format, and arbitrary unicode.
const tokenish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc
    .tuple(
      fc.base64String({ maxLength: 80 }),
      fc.base64String({ maxLength: 200 }),
      fc.base64String({ maxLength: 90 }),
    )
    .map((parts) => parts.join('.')),
  fc.tuple(fc.uuid(), fc.string({ minLength: 40, maxLength: 46 })).map(([id, secret]) => `${id}.${secret}`),
)

describe('no input makes the service answer 5xx', () => {
  it('refresh answers 401 or 422 for any refresh token', async () => {
    await fc.assert(
      fc.asyncProperty(tokenish, async (token) => {
        const res = await t.request('POST', '/v1/sessions/refresh', { body: { refreshToken: token } })
        expect([401, 422]).toContain(res.status)
      }),
      { numRuns: 150 },
    )
  })

  it('introspection answers inactive or 422 for any token', async () => {
    await fc.assert(
      fc.asyncProperty(tokenish, async (token) => {
        const res = await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token } })
        expect([200, 422]).toContain(res.status)
        if (res.status === 200) expect(await res.json()).toEqual({ active: false })
      }),
      { numRuns: 150 },
    )
  })

  it('user routes answer 401 for any bearer value', async () => {
    await fc.assert(
      fc.asyncProperty(tokenish, async (token) => {
        const res = await t.app.handle(
          new Request('http://auth.test/v1/users/u1/devices', {
            headers: { authorization: `Bearer ${token}` },
          }),
        )
        expect(res.status).toBe(401)
      }),
      { numRuns: 150 },
    )
  })

  it('answers 4xx for bodies that are not what the route takes', async () => {
    for (const body of ['not json', '[]', '{"refreshToken": 42}', '{"__proto__": {"admin": true}}', 'null']) {
      // A string body goes as it is, as JSON.
      const res = await t.request('POST', '/v1/sessions/refresh', { body })
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
    }
    const wrongType = await t.request('POST', '/v1/sessions/refresh', {
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    })
    expect(wrongType.status).toBe(415)
    const huge = await t.request('POST', '/v1/sessions', {
      token: service,
      body: { userId: 'u1', pad: 'x'.repeat(20_000) },
    })
    expect(huge.status).toBe(413)
  })
})
