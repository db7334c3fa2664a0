/**
 * Hostile input at every HTTP edge of the four apps: oversized, broken or mistyped bodies, deep nesting, huge
 * arrays, long strings, prototype keys, NUL bytes, lone surrogates, CRLF, operator objects and SQL fragments.
 * Each answer is a 4xx with an error code (or a success that stored the text as text), and the app stays up.
 */
import { describe, expect, it } from 'bun:test'
import { createCustomEvent } from '@flotilla/contracts'
import { type Route, routesOf } from './lib/routes.ts'
import { auditTarget, serviceToken, type Target, useAllTargets } from './lib/targets.ts'

const target = useAllTargets()

const APPS = ['auth', 'notifications', 'audit', 'analytics'] as const
// Apps whose API takes request bodies today (audit and analytics are read-only; a test below keeps that true).
const BODY_APPS = ['auth', 'notifications'] as const

const HOSTILE_STRINGS = [
  'nul\u0000byte',
  'lone\uD800surrogate',
  'someone@example.com\r\nBcc: evil@example.com',
  "' OR 1=1--",
  '"; DROP TABLE records; --',
  '{{7*7}}<script>alert(1)</script>',
  '../../../etc/passwd',
]
const HOSTILE_VALUES: unknown[] = [...HOSTILE_STRINGS, { $ne: null }, { $gt: '' }, ['array'], 1e308, -1, null]

/** Body routes take a valid service token unless they are public (refresh, webhooks). */
const send = async (t: Target, route: Route, body: BodyInit | null, contentType = 'application/json') =>
  t.handle(
    new Request(`http://localhost${route.path}${route.search}`, {
      method: route.method,
      headers: {
        ...(route.protected ? { authorization: `Bearer ${await serviceToken(t)}` } : {}),
        'content-type': contentType,
      },
      ...(body === null ? {} : { body }),
    }),
  )

/** Percent-encodes hostile text; a lone surrogate becomes the invalid UTF-8 bytes it would be on the wire. */
const encodeHostile = (text: string) =>
  text.includes('\uD800')
    ? text.split('\uD800').map(encodeURIComponent).join('%ED%A0%80')
    : encodeURIComponent(text)

const codeOf = async (response: Response) =>
  ((await response.json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code

const bodyRoutes = async (t: Target) => (await routesOf(t)).filter((r) => r.hasBody)

it('finds no body routes in audit and analytics (the body tests below cover every app that has some)', async () => {
  for (const name of ['audit', 'analytics'] as const) expect(await bodyRoutes(target(name))).toEqual([])
})

describe.each(BODY_APPS)('%s request bodies', (name) => {
  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE on every body route', async () => {
    const t = target(name)
    const wrong: string[] = []
    for (const route of await bodyRoutes(t)) {
      const response = await send(
        t,
        route,
        JSON.stringify({ ...(route.body as object), pad: 'x'.repeat(1024 * 1024) }),
      )
      if (response.status !== 413) wrong.push(`${route.method} ${route.template}: ${response.status}`)
    }
    expect(wrong).toEqual([])
  })

  it('answers broken JSON with 400 and a wrong content type with 415 on every body route', async () => {
    const t = target(name)
    const wrong: string[] = []
    for (const route of await bodyRoutes(t)) {
      // A public route verified by a signature (webhooks) may refuse the unsigned request first: 401.
      const alsoOk = route.protected ? [] : [401]
      const broken = await send(t, route, '{"a": [1, 2,')
      if (broken.status !== 400 && !alsoOk.includes(broken.status))
        wrong.push(`${route.method} ${route.template} broken JSON: ${broken.status}`)
      const mistyped = await send(t, route, JSON.stringify(route.body), 'text/plain')
      if (mistyped.status !== 415 && !alsoOk.includes(mistyped.status))
        wrong.push(`${route.method} ${route.template} text/plain: ${mistyped.status}`)
      const xml = await send(t, route, '<a>1</a>', 'application/xml')
      if (xml.status !== 415 && !alsoOk.includes(xml.status))
        wrong.push(`${route.method} ${route.template} xml: ${xml.status}`)
    }
    expect(wrong).toEqual([])
  })

  it('answers deep nesting, huge arrays and long strings in every field with a 4xx, and stays up', async () => {
    const t = target(name)
    const wrong: string[] = []
    const depth = 2000
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const nestedArrays = `${'['.repeat(depth * 2)}${']'.repeat(depth * 2)}`
    for (const route of await bodyRoutes(t)) {
      for (const [label, raw] of [
        ['deep object', nested],
        ['deep array', nestedArrays],
      ] as const) {
        // A body that is nothing but nesting: refused, or (a schema without required fields that strips
        // unknown keys) taken as empty — never a 5xx.
        const response = await send(t, route, raw)
        if (response.status >= 500) wrong.push(`${route.template} ${label}: ${response.status}`)
      }
      for (const key of Object.keys(route.bodySchema?.properties ?? {})) {
        for (const [label, value] of [
          ['huge array', Array.from({ length: 5000 }, () => 0)],
          ['long string', 'x'.repeat(200_000)],
          ['nested value', JSON.parse(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}`)],
        ] as const) {
          const response = await send(t, route, JSON.stringify({ ...(route.body as object), [key]: value }))
          if (response.status < 400 || response.status >= 500)
            wrong.push(`${route.method} ${route.template} ${key} = ${label}: ${response.status}`)
        }
      }
    }
    expect(wrong).toEqual([])
    expect((await t.handle(new Request('http://localhost/health'))).status).toBe(200)
  }, 30_000)

  it('refuses unknown fields with 422 where the body schema says additionalProperties: false', async () => {
    const t = target(name)
    const strict = (await bodyRoutes(t)).filter((r) => r.bodySchema?.additionalProperties === false)
    expect(strict.length).toBeGreaterThan(0)
    const wrong: string[] = []
    for (const route of strict) {
      const response = await send(t, route, JSON.stringify({ ...(route.body as object), unexpected: 1 }))
      if (response.status !== 422)
        wrong.push(`${route.method} ${route.template} + {"unexpected":1}: ${response.status}`)
    }
    expect(wrong).toEqual([])
  })

  it('never lets __proto__ or constructor.prototype keys pollute Object.prototype', async () => {
    const t = target(name)
    const statuses: string[] = []
    for (const route of await bodyRoutes(t)) {
      const base = JSON.stringify(route.body ?? {}).slice(1, -1)
      for (const payload of [
        `{${base}${base ? ',' : ''}"__proto__":{"polluted":"yes"}}`,
        `{${base}${base ? ',' : ''}"constructor":{"prototype":{"polluted":"yes"}}}`,
        `{${base}${base ? ',' : ''}"nested":{"__proto__":{"polluted":"yes"}}}`,
      ]) {
        const response = await send(t, route, payload)
        if (response.status >= 500) statuses.push(`${route.template}: ${response.status}`)
      }
    }
    expect(statuses).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe.each(APPS)('%s parameters', (name) => {
  it('answers NUL bytes, lone surrogates, CRLF, operator objects and SQL in every body field, path and query parameter without a 5xx', async () => {
    const t = target(name)
    const wrong: string[] = []
    const check = async (label: string, response: Response) => {
      if (response.status >= 500)
        wrong.push(`${label}: ${response.status} ${(await response.text()).slice(0, 100)}`)
      else if (response.status >= 400 && !(await codeOf(response)))
        wrong.push(`${label}: ${response.status} without an error code`)
    }
    for (const route of (await routesOf(t)).filter((r) => r.protected || r.hasBody)) {
      for (const value of HOSTILE_VALUES) {
        for (const key of Object.keys(route.bodySchema?.properties ?? {}))
          await check(
            `${route.method} ${route.template} body.${key}=${JSON.stringify(value)}`,
            await send(t, route, JSON.stringify({ ...(route.body as object), [key]: value })),
          )
      }
      for (const text of HOSTILE_STRINGS) {
        for (const param of route.params) {
          const path = route.template.replace(/\{(\w+)\}/g, (_, p: string) =>
            p === param
              ? encodeHostile(text)
              : (route.path.split('/')[route.template.split('/').indexOf(`{${p}}`)] ?? 'x'),
          )
          await check(
            `${route.method} ${path}`,
            await send(t, { ...route, path }, route.hasBody ? JSON.stringify(route.body) : null),
          )
        }
        for (const q of route.query) {
          const search = new URLSearchParams(route.search)
          search.delete(q)
          await check(
            `${route.method} ${route.template}?${q}=${JSON.stringify(text)}`,
            await send(
              t,
              { ...route, search: `?${search}&${q}=${encodeHostile(text)}` },
              route.hasBody ? JSON.stringify(route.body) : null,
            ),
          )
          await check(
            `${route.method} ${route.template}?${q}[$ne]=null`,
            await send(
              t,
              { ...route, search: `${route.search || '?'}&${q}[$ne]=null&${q}[]=a&${q}[]=b` },
              route.hasBody ? JSON.stringify(route.body) : null,
            ),
          )
        }
      }
    }
    expect(wrong).toEqual([])
    expect((await t.handle(new Request('http://localhost/health'))).status).toBe(200)
  }, 60_000)
})

describe('hostile text is stored as inert text', () => {
  it('notifications keeps preference user ids that look like SQL as exact strings, apart from other users', async () => {
    const t = target('notifications')
    const token = await serviceToken(t)
    const put = (userId: string, category: string) =>
      t.handle(
        new Request(`http://localhost/v1/users/${encodeURIComponent(userId)}/preferences`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ optOuts: [{ category, channel: 'email' }] }),
        }),
      )
    const get = async (userId: string) =>
      (await (
        await t.handle(
          new Request(`http://localhost/v1/users/${encodeURIComponent(userId)}/preferences`, {
            headers: { authorization: `Bearer ${token}` },
          }),
        )
      ).json()) as { optOuts?: { category: string }[] }
    for (const userId of ["' OR 1=1--", 'u_plain', 'x"; DROP TABLE preferences; --']) {
      expect((await put(userId, userId === 'u_plain' ? 'marketing' : 'security')).status).toBeLessThan(300)
    }
    expect((await get("' OR 1=1--")).optOuts?.map((o) => o.category)).toEqual(['security'])
    expect((await get('u_plain')).optOuts?.map((o) => o.category)).toEqual(['marketing'])
    expect((await get('u_nobody')).optOuts ?? []).toEqual([])
  })
})

describe('hostile text in events is stored as inert text', () => {
  it('audit finds a record whose actor id looks like SQL or an operator object only by that exact text', async () => {
    const audit = await auditTarget()
    try {
      const ids = ["' OR 1=1--", '{"$ne":null}', 'plain']
      await audit.ingest(
        ids.map((id) =>
          createCustomEvent(
            'order.placed',
            { note: id },
            { source: 'monolith', tenantId: 't1', actor: { type: 'user', id } },
          ),
        ),
      )
      const token = await serviceToken(audit)
      const search = async (query: string) => {
        const response = await audit.handle(
          new Request(`http://localhost/v1/audit/events?tenantId=t1&${query}`, {
            headers: { authorization: `Bearer ${token}` },
          }),
        )
        expect(response.status).toBe(200)
        return ((await response.json()) as { items: { actorId: string | null }[] }).items.map(
          (r) => r.actorId,
        )
      }
      expect(await search(`actorId=${encodeURIComponent("' OR 1=1--")}`)).toEqual(["' OR 1=1--"])
      expect(await search(`actorId=${encodeURIComponent('{"$ne":null}')}`)).toEqual(['{"$ne":null}'])
      expect(await search('actorId=nobody')).toEqual([])
    } finally {
      await audit.close()
    }
  })
})
