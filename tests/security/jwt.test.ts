/** The JWT attack list against every protected route of every app: 401, never anything else. */
import { afterAll, describe, expect, it } from 'bun:test'
import { SERVICE_NAMES } from '@flotilla/contracts'
import { type Attack, attacksOn } from './lib/attacks.ts'
import { type Route, requestFor, routesOf } from './lib/routes.ts'
import { serviceToken, type Target, useAllTargets, userToken } from './lib/targets.ts'

// A JWKS endpoint an attacker controls: a verifier that fetched `jku` / `x5u` would hit it.
let fetchedByVerifier = 0
const attackerServer = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch() {
    fetchedByVerifier++
    return Response.json({ keys: [] })
  },
})
const jkuUrl = `http://127.0.0.1:${attackerServer.port}/jwks.json`

const target = useAllTargets()
afterAll(() => {
  attackerServer.stop(true)
})

const APPS = SERVICE_NAMES

/** Sends every attack to every protected route; resolves to the answers that were not 401. */
const attackAll = async (t: Target, routes: readonly Route[], attacks: readonly Attack[]) => {
  const wrong: string[] = []
  for (const route of routes.filter((r) => r.protected)) {
    for (const attack of attacks) {
      const response = await t.handle(requestFor(route, attack.token))
      if (response.status !== 401)
        wrong.push(
          `${route.method} ${route.template} ← ${attack.name}: ${response.status} ${(await response.text()).slice(0, 120)}`,
        )
    }
  }
  return wrong
}

describe.each(APPS)('%s', (name) => {
  it('refuses every token of the attack list with 401 on every protected route', async () => {
    const t = target(name)
    const routes = await routesOf(t)
    expect(routes.filter((r) => r.protected).length).toBeGreaterThan(0)
    const attacks = await attacksOn(t, jkuUrl)
    expect(await attackAll(t, routes, attacks)).toEqual([])
    expect(fetchedByVerifier).toBe(0)
  }, 60_000)

  it('accepts the valid service token the attacks were derived from (the 401s are the attacks’ doing)', async () => {
    const t = target(name)
    const routes = (await routesOf(t)).filter((r) => r.protected)
    const refused: string[] = []
    for (const route of routes) {
      const response = await t.handle(requestFor(route, await serviceToken(t)))
      if (response.status === 401) refused.push(`${route.method} ${route.template}`)
    }
    expect(refused).toEqual([])
  }, 60_000)
})

describe('user access tokens', () => {
  it('accepts a valid user token on a user route of audit and analytics, so the user attacks are meaningful', async () => {
    for (const [name, path] of [
      ['audit', '/v1/audit/events'],
      ['analytics', '/v1/stats/summary'],
    ] as const) {
      const t = target(name)
      const response = await t.handle(
        new Request(`http://localhost${path}`, {
          headers: { authorization: `Bearer ${await userToken(t, { tenantId: 't1' })}` },
        }),
      )
      expect(response.status).not.toBe(401)
    }
  })

  it('accepts a valid user token of auth on the user’s own sessions route', async () => {
    const t = target('auth')
    const response = await t.handle(
      new Request('http://localhost/v1/users/u_attacker/sessions', {
        headers: { authorization: `Bearer ${await userToken(t, { userId: 'u_attacker' })}` },
      }),
    )
    expect(response.status).toBe(200)
  })

  it('refuses a token of a revoked session with 401 (auth)', async () => {
    const t = target('auth') as Target & {
      fixture: {
        request: (m: string, p: string, o?: object) => Promise<Response>
        serviceToken(): Promise<string>
      }
    }
    const created = await t.fixture.request('POST', '/v1/sessions', {
      token: await t.fixture.serviceToken(),
      body: { userId: 'u_revoked' },
    })
    expect(created.status).toBe(201)
    const { accessToken, sessionId } = (await created.json()) as { accessToken: string; sessionId: string }
    const list = () =>
      t.handle(
        new Request('http://localhost/v1/users/u_revoked/sessions', {
          headers: { authorization: `Bearer ${accessToken}` },
        }),
      )
    expect((await list()).status).toBe(200)
    const revoked = await t.fixture.request('DELETE', `/v1/sessions/${sessionId}`, {
      token: await t.fixture.serviceToken(),
    })
    expect(revoked.status).toBeLessThan(300)
    expect((await list()).status).toBe(401)
  })
})
