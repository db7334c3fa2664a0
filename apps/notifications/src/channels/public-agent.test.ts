import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { request } from 'node:https'
import { FAKE_PUSH_HOST, type FakePushService, startFakePushService } from './fakes/push-server.ts'
import { ADDRESS_REFUSED, createPublicAgent, type Resolve } from './public-agent.ts'

/** POSTs to `url` through `agent`: the status, or the error code the request failed with. */
const post = (url: string, agent: ReturnType<typeof createPublicAgent>) =>
  new Promise<{ status?: number; code?: string }>((resolve) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }))
    })
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ code: error.code ?? error.message }))
    req.end('{}')
  })

/** A resolver that knows only `answers`, and counts its calls. */
const resolverOf = (answers: Record<string, string[]>) => {
  const calls: string[] = []
  const resolve: Resolve = async (hostname) => {
    calls.push(hostname)
    const found = answers[hostname]
    if (!found) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' })
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { resolve, calls }
}

describe('createPublicAgent', () => {
  let fake: FakePushService
  beforeAll(() => {
    fake = startFakePushService()
  })
  afterAll(() => fake.close())

  it('refuses address literals that are not public, in every IPv6 spelling, without dialling', async () => {
    const agent = createPublicAgent({ ca: fake.ca })
    for (const host of ['127.0.0.1', '[::127.0.0.1]', '[::ffff:127.0.0.1]', '[::1]', '[::]', '0.0.0.0']) {
      expect(await post(`https://${host}:${fake.port}/push/x`, agent), host).toEqual({
        code: ADDRESS_REFUSED,
      })
    }
    expect(fake.requests.count).toBe(0)
  })

  it('refuses a public-looking name that resolves to loopback, checking the resolved address', async () => {
    const { resolve } = resolverOf({ [FAKE_PUSH_HOST]: ['127.0.0.1'] })
    const agent = createPublicAgent({ ca: fake.ca, resolve })
    expect(await post(`https://${FAKE_PUSH_HOST}:${fake.port}/push/x`, agent)).toEqual({
      code: ADDRESS_REFUSED,
    })
    expect(fake.requests.count).toBe(0)
  })

  it('refuses a name whose answer mixes a public and a private address', async () => {
    const { resolve } = resolverOf({ [FAKE_PUSH_HOST]: ['8.8.8.8', '127.0.0.1'] })
    const agent = createPublicAgent({ ca: fake.ca, resolve })
    expect(await post(`https://${FAKE_PUSH_HOST}:${fake.port}/push/x`, agent)).toEqual({
      code: ADDRESS_REFUSED,
    })
    expect(fake.requests.count).toBe(0)
  })

  it('refuses names resolving to CGNAT, link-local, unique-local, IPv4-mapped or IPv4-compatible addresses', async () => {
    for (const address of [
      '100.64.1.1',
      '169.254.169.254',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::7f00:1',
      '224.0.0.1',
    ]) {
      const { resolve } = resolverOf({ [FAKE_PUSH_HOST]: [address] })
      const agent = createPublicAgent({ ca: fake.ca, resolve })
      expect(await post(`https://${FAKE_PUSH_HOST}:${fake.port}/push/x`, agent), address).toEqual({
        code: ADDRESS_REFUSED,
      })
    }
    expect(fake.requests.count).toBe(0)
  })

  it('dials the very address it resolved and checked: one lookup per connection, none by the system', async () => {
    // Loopback is allowed here (explicitly) so the connection can reach the local service. The name exists only
    // in this resolver: had anything resolved it again (the system's DNS), the request would fail ENOTFOUND.
    const { resolve, calls } = resolverOf({ [FAKE_PUSH_HOST]: ['127.0.0.1'] })
    const agent = createPublicAgent({ ca: fake.ca, resolve, allowPrivateAddresses: true })
    const before = fake.requests.count
    expect(await post(`https://${FAKE_PUSH_HOST}:${fake.port}/not-push`, agent)).toEqual({ status: 404 })
    expect(calls).toEqual([FAKE_PUSH_HOST])
    expect(fake.requests.count).toBe(before + 1)
  })

  it('passes resolver failures through as they are (a missing host stays a network error)', async () => {
    const agent = createPublicAgent({ ca: fake.ca, resolve: resolverOf({}).resolve })
    expect(await post(`https://${FAKE_PUSH_HOST}:${fake.port}/push/x`, agent)).toEqual({ code: 'ENOTFOUND' })
  })
})
