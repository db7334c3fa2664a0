import { describe, expect, it } from 'bun:test'
import { useFixture } from '@flotilla/service-kit/testing'
import { NonRetryableError } from '@flotilla/streams'
import { Type } from '@sinclair/typebox'
import { createTestApp } from '../testing.ts'
import { SHIPPED_TEMPLATES } from './catalog/index.ts'
import type { TemplateDefinition } from './model.ts'
import { createTemplateRegistry, SYSTEM_VARIABLES } from './registry.ts'

const globals = { app: { name: 'Flotilla', url: 'https://app.test' } }
const custom = (overrides: Partial<TemplateDefinition>): TemplateDefinition => ({
  name: 'custom',
  description: 'test template',
  category: 'test',
  defaultChannels: ['email'],
  variables: Type.Object({ name: Type.String() }),
  locales: { en: { sms: { text: 'Hi {{ name }}' } } },
  ...overrides,
})

describe('template registry', () => {
  it('ships welcome, new-sign-in (and its digest), security-alert and password-reset in English and French', () => {
    const registry = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals })
    expect(registry.list().map((t) => [t.name, t.locales.sort()])).toEqual([
      ['welcome', ['en', 'fr']],
      ['new-sign-in', ['en', 'fr']],
      ['new-sign-in-digest', ['en', 'fr']],
      ['security-alert', ['en', 'fr']],
      ['password-reset', ['en', 'fr']],
    ])
  })

  it('parses and checks every shipped template at start (the service parses them on first use)', () => {
    expect(() =>
      createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals, parse: 'start' }),
    ).not.toThrow()
  })

  it('with parse on first use: the same renders, and a bad template fails its render, not the build', () => {
    const data = { name: 'Grace' }
    const atStart = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals })
    const onFirstUse = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals, parse: 'first-use' })
    const requests = {
      welcome: data,
      'password-reset': { ...data, resetUrl: 'https://app.test/r', expiresInMinutes: 30 },
    }
    for (const [name, variables] of Object.entries(requests)) {
      const request = { channels: ['email'] as const, locale: 'fr', data: variables }
      expect(onFirstUse.render(name, request)).toEqual(atStart.render(name, request))
    }
    const broken = createTemplateRegistry({
      templates: [custom({ locales: { en: { sms: { text: 'Hi {{ name }} {{ secret }}' } } } })],
      globals,
      parse: 'first-use',
    })
    let thrown: unknown
    try {
      broken.render('custom', { channels: ['sms'], data })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(NonRetryableError)
    expect(thrown).toMatchObject({
      code: 'TEMPLATE_RENDER_FAILED',
      message: expect.stringContaining('reads "secret"'),
    })
  })

  it('refuses at start a template that reads a variable it does not declare, naming it', () => {
    const build = () =>
      createTemplateRegistry({
        templates: [custom({ locales: { en: { sms: { text: 'Hi {{ name }} {{ secret }}' } } } })],
        globals,
      })
    expect(build).toThrow('reads "secret"')
  })

  it('resolves locales: exact, then the language, then the default; a channel a locale lacks comes from the default', () => {
    const registry = createTemplateRegistry({
      templates: [
        custom({
          locales: {
            en: { sms: { text: 'Hi {{ name }}' }, push: { title: 'Hi', body: '{{ name }}' } },
            fr: { sms: { text: 'Salut {{ name }}' } },
          },
        }),
      ],
      globals,
    })
    expect(registry.resolveLocale('custom', 'fr-BE')).toBe('fr')
    expect(registry.resolveLocale('custom', 'pt-BR')).toBe('en')
    expect(registry.resolveLocale('custom', undefined)).toBe('en')
    const { locale, messages } = registry.render('custom', {
      channels: ['sms', 'push'],
      locale: 'fr',
      data: { name: 'Zoé' },
    })
    expect(locale).toBe('fr')
    expect(messages).toEqual([
      { channel: 'sms', text: 'Salut Zoé' },
      { channel: 'push', title: 'Hi', body: 'Zoé' },
    ])
  })

  it('cannot reach prototype properties or run code from a template', () => {
    const registry = createTemplateRegistry({
      templates: [custom({ locales: { en: { sms: { text: '{{ name.constructor.name }}' } } } })],
      globals,
    })
    const attempt = () => registry.render('custom', { channels: ['sms'], data: { name: 'x' } })
    expect(attempt).toThrow(NonRetryableError)
  })

  it('names every missing or mistyped variable', () => {
    const registry = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals })
    expect(registry.checkData('password-reset', { expiresInMinutes: 'soon' })).toEqual([
      { variable: 'resetUrl', message: 'Expected required property' },
      { variable: 'expiresInMinutes', message: 'Expected integer' },
    ])
  })
})

describe('the system namespace', () => {
  const registry = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals })
  const phishing = { name: 'Grace', app: { name: 'EVIL Corp', url: 'https://evil.example/phish' } }

  it('refuses data that sets a system variable with TEMPLATE_DATA_RESERVED, naming it', () => {
    const error = (() => {
      try {
        registry.render('welcome', { channels: ['email'], data: phishing })
      } catch (e) {
        return e
      }
    })() as NonRetryableError & { problems?: unknown }
    expect(error).toBeInstanceOf(NonRetryableError)
    expect(error.code).toBe('TEMPLATE_DATA_RESERVED')
    expect(error.problems).toEqual([expect.objectContaining({ variable: 'app', reserved: true })])
  })

  it('reserves every system variable, present or planned, whatever its value', () => {
    for (const variable of SYSTEM_VARIABLES) {
      for (const value of [{ name: 'x' }, 'x', null, []]) {
        expect(registry.checkData('welcome', { [variable]: value }), variable).toEqual([
          expect.objectContaining({ variable, reserved: true }),
        ])
      }
    }
    expect(registry.checkData('welcome', { name: 'Grace', App: 'x', apps: 'x' })).toEqual([])
  })

  it('renders the service’s own app name and URL', () => {
    const { messages } = registry.render('welcome', { channels: ['email'], data: { name: 'Grace' } })
    const email = messages[0] as { subject: string; html: string }
    expect(email.subject).toBe('Welcome to Flotilla')
    expect(email.html).toContain('href="https://app.test"')
  })

  it('refuses at start a template declaring a system variable, or a global outside the namespace', () => {
    expect(() =>
      createTemplateRegistry({
        templates: [custom({ variables: Type.Object({ name: Type.String(), app: Type.String() }) })],
        globals,
      }),
    ).toThrow('declares "app", a system variable')
    expect(() =>
      createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals: { ...globals, brand: 'x' } }),
    ).toThrow('template global "brand" must be one of the system variables')
  })
})

describe('template routes', () => {
  const t = useFixture(() => createTestApp(), 'all')

  it('lists the templates with their declared variables (service token required)', async () => {
    expect((await t.request('GET', '/v1/templates', { token: null })).status).toBe(401)
    const response = await t.request('GET', '/v1/templates')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { items: { name: string; variables: { required?: string[] } }[] }
    expect(body.items.find((i) => i.name === 'password-reset')?.variables.required?.sort()).toEqual([
      'expiresInMinutes',
      'resetUrl',
    ])
  })

  it('previews a template in French with escaped HTML, sending nothing', async () => {
    const response = await t.request('POST', '/v1/templates/welcome/preview', {
      body: { locale: 'fr-FR', data: { name: '<b>Zoé</b>' } },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      locale: string
      messages: { channel: string; html?: string; subject?: string }[]
    }
    expect(body.locale).toBe('fr')
    const email = body.messages.find((m) => m.channel === 'email')
    expect(email?.subject).toBe('Bienvenue sur Flotilla')
    expect(email?.html).toContain('Bonjour &lt;b&gt;Zoé&lt;/b&gt;')
    expect((await t.core.outbox.list({})).items).toHaveLength(0)
  })

  it('answers 422 TEMPLATE_DATA_INVALID naming the missing variable, and 404 for an unknown template', async () => {
    const invalid = await t.request('POST', '/v1/templates/password-reset/preview', {
      body: { data: { expiresInMinutes: 5 } },
    })
    expect(invalid.status).toBe(422)
    const body = (await invalid.json()) as { error: { code: string; details: { variable: string }[] } }
    expect(body.error.code).toBe('TEMPLATE_DATA_INVALID')
    expect(body.error.details.map((d) => d.variable)).toEqual(['resetUrl'])
    expect((await t.request('POST', '/v1/templates/nope/preview', { body: {} })).status).toBe(404)
  })

  it('answers 422 TEMPLATE_DATA_RESERVED to a preview whose data sets app, and renders nothing', async () => {
    const response = await t.request('POST', '/v1/templates/welcome/preview', {
      body: { data: { name: 'Grace', app: { name: 'EVIL Corp', url: 'https://evil.example/phish' } } },
    })
    expect(response.status).toBe(422)
    const text = await response.text()
    expect(JSON.parse(text).error).toMatchObject({
      code: 'TEMPLATE_DATA_RESERVED',
      details: [{ variable: 'app', reserved: true }],
    })
    expect(text).not.toContain('evil.example')
  })
})
