/**
 * The template engine: Liquid (liquidjs) — templates cannot run code, only read the data they are given.
 * HTML parts render with output escaped by default; text parts (subject, plain text, SMS, push) do not
 * (they are never interpreted as HTML). Undefined variables are errors (`strictVariables`).
 * No Liquid `globals`: a render's scope shadows them, so event data could replace them. System values
 * (`app`…) go into the scope, last, by the registry.
 */
import { Liquid, type Template } from 'liquidjs'

export interface TemplateEngine {
  /** Parses once; throws on a syntax error (caught when the registry is built, not at send time). */
  parse(source: string, kind: 'html' | 'text'): CompiledTemplate
}

export interface CompiledTemplate {
  render(scope: Record<string, unknown>): string
  /** Names of the top-level variables it reads (static analysis of the parsed form, to check declarations). */
  readonly variables: readonly string[]
}

const options = {
  strictVariables: true,
  strictFilters: true,
  // `{% if optional %}` and `| default:` work on declared optional variables that were not given.
  lenientIf: true,
  // Never read prototype properties (`constructor`, `__proto__`) of the data.
  ownPropertyOnly: true,
  // No file system: `{% include %}` / `{% render %}` of files has nothing to read.
  relativeReference: false,
  root: [] as string[],
  partials: [] as string[],
  layouts: [] as string[],
  // Given, so the engine does not ask Intl for the default locale when built: that loads ICU's data (~6 MiB
  // resident) at start; now only a render that formats a date (`local_time`) loads it.
  locale: 'en-US',
}

/** `{{ at | local_time: timezone, locale }}` — an ISO timestamp in the recipient's zone and language. */
const localTime = (value: unknown, timeZone?: unknown, locale?: unknown): string => {
  const date = new Date(String(value))
  if (Number.isNaN(date.getTime())) return String(value)
  const format = (zone: string | undefined) =>
    new Intl.DateTimeFormat(typeof locale === 'string' ? locale : 'en', {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: zone,
      timeZoneName: 'short',
    }).format(date)
  try {
    return format(typeof timeZone === 'string' && timeZone !== '' ? timeZone : 'UTC')
  } catch {
    return format('UTC') // an unknown zone name: fall back rather than fail the message
  }
}

/** Creates the engine pair (escaping for HTML, raw for text). */
export const createTemplateEngine = (): TemplateEngine => {
  const html = new Liquid({ ...options, outputEscape: 'escape' })
  const text = new Liquid(options)
  for (const engine of [html, text]) engine.registerFilter('local_time', localTime)
  const compile = (engine: Liquid, templates: Template[]): CompiledTemplate => ({
    render: (scope) => engine.renderSync(templates, scope) as string,
    // From the parsed form: parsing each source once (not again to analyse it) keeps the parser's code cooler.
    variables: engine.globalVariablesSync(templates),
  })
  return {
    parse(source, kind) {
      const engine = kind === 'html' ? html : text
      return compile(engine, engine.parse(source))
    },
  }
}
