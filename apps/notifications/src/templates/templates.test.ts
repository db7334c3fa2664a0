import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { NonRetryableError } from '@flotilla/streams'
import { Type } from '@sinclair/typebox'
import { createTestApp, type TestApp } from '../testing.ts'
import { SHIPPED_TEMPLATES } from './catalog/index.ts'
import type { TemplateDefinition } from './model.ts'
import { createTemplateRegistry } from './registry.ts'

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
  it('ships welcome, new-sign-in, security-alert and password-reset in English and French', () => {
    const registry = createTemplateRegistry({ templates: SHIPPED_TEMPLATES, globals })
    expect(registry.list().map((t) => [t.name, t.locales.sort()])).toEqual([
      ['welcome', ['en', 'fr']],
      ['new-sign-in', ['en', 'fr']],
      ['security-alert', ['en', 'fr']],
      ['password-reset', ['en', 'fr']],
    ])
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

describe('template routes', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.cleanup())

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
})
