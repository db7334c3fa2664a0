/**
 * The template registry: parses every template once at start (a syntax error or an undeclared variable stops
 * the start), validates event data against each template's declared variables, resolves locales with fallback,
 * and renders per channel.
 */
import { NonRetryableError } from '@flotilla/streams'
import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { type CompiledTemplate, createTemplateEngine } from './engine.ts'
import type { ChannelName, RenderedMessage, TemplateDefinition, TemplateSummary } from './model.ts'

/**
 * The system namespace: top-level names the service fills in on every render (`app.name`, `app.url`,
 * `recipient.locale`…) or keeps for what it will inject (`links`, `unsubscribe`). Event data may not carry
 * them (`TEMPLATE_DATA_RESERVED`), a template may not declare them, and every system value must live under
 * one of them, so a `notification.requested` cannot make a genuine email say "Welcome to EVIL Corp" or
 * point its links elsewhere.
 */
export const SYSTEM_VARIABLES: readonly string[] = Object.freeze(['app', 'recipient', 'links', 'unsubscribe'])
const SYSTEM = new Set(SYSTEM_VARIABLES)

/** One part of a channel's content (a subject, a body…), parsed at start or at its first render. */
type Part = Pick<CompiledTemplate, 'render'>

type CompiledChannel =
  | { channel: 'email'; subject: Part; html: Part; text: Part }
  | { channel: 'sms'; text: Part }
  | { channel: 'push'; title: Part; body: Part }

interface CompiledDefinition {
  readonly definition: TemplateDefinition
  /**
   * The variables' schema compiled once, at the template's first check: valid data (the common case) is checked
   * without walking for errors. Not at start: compiling every schema then held ~3 MiB of generated code in a
   * process that may never use some templates.
   */
  readonly valid: (data: unknown) => boolean
  readonly locales: ReadonlyMap<string, ReadonlyMap<ChannelName, CompiledChannel>>
}

/** What a render needs to know about the recipient (for dates and language). */
export interface RenderRecipient {
  readonly locale?: string | undefined
  readonly timezone?: string | undefined
}

export interface TemplateRegistry {
  readonly defaultLocale: string
  get(name: string): TemplateDefinition | undefined
  list(): TemplateSummary[]
  /** The locale used for `requested`: exact, then its language (`fr-CA` → `fr`), then the default. */
  resolveLocale(name: string, requested: string | undefined): string
  /** Channels that have content in a locale (after fallback). */
  channelsOf(name: string, locale: string): ChannelName[]
  /**
   * Validates `data` against the template's variables and renders the channels. Throws
   * `NonRetryableError` (`UNKNOWN_TEMPLATE`, `TEMPLATE_DATA_RESERVED` when data sets a system variable,
   * `TEMPLATE_DATA_INVALID` naming each variable, `TEMPLATE_CHANNEL_MISSING`, `TEMPLATE_RENDER_FAILED`),
   * with the problems as `problems`.
   */
  render(
    name: string,
    options: {
      channels: readonly ChannelName[]
      locale?: string | undefined
      data: Record<string, unknown>
      recipient?: RenderRecipient
    },
  ): { locale: string; messages: RenderedMessage[] }
  /**
   * Only the data check (no rendering): the problems, each naming its variable; system variables the data
   * tries to set come first, with `reserved: true`.
   */
  checkData(name: string, data: Record<string, unknown>): DataProblem[]
}

/** One thing wrong with a template's data. */
export interface DataProblem {
  readonly variable: string
  readonly message: string
  /** Set when the data tries to set a system variable. */
  readonly reserved?: true
}

export interface RegistryOptions {
  readonly templates: readonly TemplateDefinition[]
  /** @defaultValue 'en' */
  readonly defaultLocale?: string
  /**
   * System values every template sees, e.g. `{ app: { name, url } }`; each key must be one of
   * `SYSTEM_VARIABLES` (other than `recipient`, which the registry fills in per render).
   */
  readonly globals?: Record<string, unknown>
  /**
   * When each part is parsed and checked against its declared variables: `start` (a bad template stops the
   * build) or `first-use` (at its first render, failing that render with `TEMPLATE_RENDER_FAILED`). `first-use`
   * is for templates a test has already checked at start, as the shipped ones are (templates.test.ts): parsing
   * all of them at start left ~3–5 MiB of the parser's compiled code resident in a process that may send few of
   * them. @defaultValue 'start'
   */
  readonly parse?: 'start' | 'first-use'
}

const normalizeLocale = (locale: string) => locale.toLowerCase()

/** Builds the registry; throws at start when a template does not parse or reads an undeclared variable. */
export const createTemplateRegistry = ({
  templates,
  defaultLocale = 'en',
  globals = {},
  parse = 'start',
}: RegistryOptions): TemplateRegistry => {
  for (const key of Object.keys(globals)) {
    if (!SYSTEM.has(key) || key === 'recipient')
      throw new Error(
        `template global "${key}" must be one of the system variables (${SYSTEM_VARIABLES.join(', ')})`,
      )
  }
  const system = Object.freeze({ ...globals })
  // What a template may read besides what it declares: the system values actually provided.
  const provided = [...Object.keys(system), 'recipient']
  const engine = createTemplateEngine()
  const compiled = new Map<string, CompiledDefinition>()

  for (const definition of templates) {
    const digest = definition.digest?.template
    if (digest !== undefined && !templates.some((other) => other.name === digest && !other.digest))
      throw new Error(
        `template ${definition.name} digests into "${digest}", which is not a template without a digest`,
      )
    const own = Object.keys(definition.variables.properties)
    for (const variable of own) {
      if (SYSTEM.has(variable))
        throw new Error(`template ${definition.name} declares "${variable}", a system variable`)
    }
    const declared = new Set([...own, ...provided])
    /** Parses one part once and checks what it reads against what the template declares. */
    const checked = (source: string, kind: 'html' | 'text', where: string): Part => {
      const template = engine.parse(source, kind)
      for (const variable of template.variables) {
        if (!declared.has(variable))
          throw new Error(`template ${where} reads "${variable}", which it does not declare`)
      }
      return template
    }
    const part = (source: string, kind: 'html' | 'text', where: string): Part => {
      if (parse === 'start') return checked(source, kind, where)
      let template: Part | undefined
      const load = () => (template ??= checked(source, kind, where))
      return { render: (scope) => load().render(scope) }
    }
    if (!definition.locales[defaultLocale])
      throw new Error(`template ${definition.name} has no ${defaultLocale} (default locale) version`)
    const locales = new Map<string, Map<ChannelName, CompiledChannel>>()
    for (const [locale, sources] of Object.entries(definition.locales)) {
      const channels = new Map<ChannelName, CompiledChannel>()
      const at = `${definition.name}/${locale}`
      if (sources.email) {
        const { subject, html, text } = sources.email
        channels.set('email', {
          channel: 'email',
          subject: part(subject, 'text', `${at}/email.subject`),
          html: part(html, 'html', `${at}/email.html`),
          text: part(text, 'text', `${at}/email.text`),
        })
      }
      if (sources.sms) {
        channels.set('sms', { channel: 'sms', text: part(sources.sms.text, 'text', `${at}/sms.text`) })
      }
      if (sources.push) {
        channels.set('push', {
          channel: 'push',
          title: part(sources.push.title, 'text', `${at}/push.title`),
          body: part(sources.push.body, 'text', `${at}/push.body`),
        })
      }
      locales.set(normalizeLocale(locale), channels)
    }
    let checker: TypeCheck<TSchema> | undefined
    const compile = () => (checker ??= TypeCompiler.Compile(definition.variables))
    compiled.set(definition.name, { definition, locales, valid: (data) => compile().Check(data) })
  }

  const require = (name: string): CompiledDefinition => {
    const found = compiled.get(name)
    if (!found) throw new NonRetryableError(`unknown template "${name}"`, { code: 'UNKNOWN_TEMPLATE' })
    return found
  }

  const resolveLocale = (name: string, requested: string | undefined): string => {
    const { locales } = require(name)
    if (requested) {
      const exact = normalizeLocale(requested)
      if (locales.has(exact)) return exact
      const language = exact.split('-')[0] ?? exact
      if (locales.has(language)) return language
    }
    return normalizeLocale(defaultLocale)
  }

  const checkData: TemplateRegistry['checkData'] = (name, data) => {
    const { definition, valid } = require(name)
    const problems: DataProblem[] = []
    for (const variable of SYSTEM_VARIABLES) {
      if (Object.hasOwn(data, variable))
        problems.push({
          variable,
          message: 'is a system variable, set by the service; event data may not carry it',
          reserved: true,
        })
    }
    if (problems.length > 0 || valid(data)) return problems
    const seen = new Set<string>()
    for (const error of Value.Errors(definition.variables, data)) {
      const variable = error.path.replace(/^\//, '').replaceAll('/', '.') || '(data)'
      if (seen.has(variable)) continue // one problem per variable: the first says it best
      seen.add(variable)
      problems.push({ variable, message: error.message })
    }
    return problems
  }

  const renderOne = (c: CompiledChannel, scope: Record<string, unknown>): RenderedMessage => {
    if (c.channel === 'email')
      return {
        channel: 'email',
        subject: c.subject.render(scope).trim(),
        html: c.html.render(scope),
        text: c.text.render(scope),
      }
    if (c.channel === 'sms') return { channel: 'sms', text: c.text.render(scope).trim() }
    return { channel: 'push', title: c.title.render(scope).trim(), body: c.body.render(scope).trim() }
  }

  return {
    defaultLocale: normalizeLocale(defaultLocale),
    get: (name) => compiled.get(name)?.definition,
    list: () =>
      [...compiled.values()].map(({ definition, locales }) => ({
        name: definition.name,
        description: definition.description,
        category: definition.category,
        critical: definition.critical ?? false,
        defaultChannels: [...definition.defaultChannels],
        channels: [...(locales.get(normalizeLocale(defaultLocale))?.keys() ?? [])],
        locales: [...locales.keys()],
        variables: definition.variables,
      })),
    resolveLocale,
    channelsOf: (name, locale) => [...(require(name).locales.get(locale)?.keys() ?? [])],
    checkData,
    render(name, { channels, locale, data, recipient = {} }) {
      const { locales } = require(name)
      const problems = checkData(name, data)
      if (problems.length > 0) {
        const list = problems.map((p) => `"${p.variable}" (${p.message})`).join(', ')
        const reserved = problems.some((p) => p.reserved)
        throw Object.assign(
          new NonRetryableError(
            reserved
              ? `template "${name}": data may not set system variable ${list}`
              : `template "${name}": invalid or missing variable ${list}`,
            { code: reserved ? 'TEMPLATE_DATA_RESERVED' : 'TEMPLATE_DATA_INVALID' },
          ),
          { problems },
        )
      }
      const used = resolveLocale(name, locale)
      const fallback = locales.get(normalizeLocale(defaultLocale))
      // System values last: even if data carried one, the service's value is what renders.
      const scope = {
        ...data,
        ...system,
        // Dates are written in the language of the text actually used.
        recipient: { locale: used, timezone: recipient.timezone ?? 'UTC' },
      }
      const messages = channels.map((channel) => {
        // A locale may translate only some channels: the rest fall back to the default locale.
        const source = locales.get(used)?.get(channel) ?? fallback?.get(channel)
        if (!source)
          throw new NonRetryableError(`template "${name}" has no ${channel} content`, {
            code: 'TEMPLATE_CHANNEL_MISSING',
          })
        try {
          return renderOne(source, scope)
        } catch (error) {
          throw new NonRetryableError(`template "${name}" failed to render: ${(error as Error).message}`, {
            code: 'TEMPLATE_RENDER_FAILED',
            cause: error,
          })
        }
      })
      return { locale: used, messages }
    },
  }
}
