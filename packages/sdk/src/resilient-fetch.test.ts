import { afterAll, describe, expect, it } from 'bun:test'
import { createAuthClient } from './auth-client.ts'
import { loadFlotillaConfig } from './config.ts'
import { createResilientFetch, ServiceUnavailableError } from './resilient-fetch.ts'
import { createServiceTokens } from './service-tokens.ts'

/** A local server answering 503 to the first `failures` requests, then 200 with the body it received. */
const servers: ReturnType<typeof Bun.serve>[] = []
const flakyServer = (failures: number) => {
  const seen: { method: string; path: string; body: string }[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      seen.push({ method: request.method, path: new URL(request.url).pathname, body: await request.text() })
      return seen.length <= failures
        ? new Response('busy', { status: 503 })
        : Response.json({ echo: seen.at(-1)?.body })
    },
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${server.port}`, seen }
}
afterAll(() => {
  for (const server of servers) server.stop(true)
})

const signer = createServiceTokens(loadFlotillaConfig({}))

describe('createResilientFetch', () => {
  it('retries an idempotent call with the same body, and hands back the answer', async () => {
    const { url, seen } = flakyServer(2)
    const { fetch } = createResilientFetch('auth', { backoffMs: 1, isIdempotent: () => true })
    const response = await fetch(`${url}/v1/x`, { method: 'POST', body: '{"a":1}' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ echo: '{"a":1}' })
    expect(seen.map((s) => s.body)).toEqual(['{"a":1}', '{"a":1}', '{"a":1}'])
  })

  it('rejects with ServiceUnavailableError "unreachable" when nothing listens', async () => {
    const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    const error = await createResilientFetch('auth', { retries: 0 })
      .fetch(url)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ServiceUnavailableError)
    expect((error as ServiceUnavailableError).reason).toBe('unreachable')
  })
})

describe('auth client resilience', () => {
  it('retries token introspection but never opening a session', async () => {
    const { url, seen } = flakyServer(1)
    const auth = createAuthClient({ baseUrl: url, signer, resilience: { backoffMs: 1 } })
    const session = await auth.v1.sessions.post({ userId: 'u_1' })
    expect(session.status).toBe(503)
    expect(seen.map((s) => s.path)).toEqual(['/v1/sessions'])
    const second = flakyServer(1)
    const retried = createAuthClient({ baseUrl: second.url, signer, resilience: { backoffMs: 1 } })
    const checked = await retried.v1.tokens.introspect.post({ token: 't' })
    expect(checked.status).toBe(200)
    expect(second.seen.map((s) => s.path)).toEqual(['/v1/tokens/introspect', '/v1/tokens/introspect'])
  })
})
