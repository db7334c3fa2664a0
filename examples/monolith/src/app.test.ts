import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { useTestMonolith } from './testing.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

const openMonolith = useTestMonolith()

describe('monolith app', () => {
  it('reports the outbox backlog on /ready until the relay has sent it', async () => {
    const m = await openMonolith()
    expect((await m.request('GET', '/health')).status).toBe(200)
    await m.request('POST', '/register', { email: 'ready@example.com', password: 'a long password' })
    const before = await m.request('GET', '/ready')
    expect(before.status).toBe(200)
    expect(before.body.relay).toMatchObject({ pending: 1, failed: 0 })
    await m.relayed()
    expect((await m.request('GET', '/ready')).body.relay).toMatchObject({ pending: 0, failed: 0, relayed: 1 })
  })

  it('answers unknown routes and unparsable bodies with the error shape', async () => {
    const m = await openMonolith()
    const missing = await m.request('GET', '/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('NOT_FOUND')
    const res = await m.app.handle(
      new Request('http://monolith.test/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email":',
      }),
    )
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST')
  })
})
