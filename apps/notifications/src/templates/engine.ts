/**
 * The template engine: Liquid (liquidjs) — templates cannot run code, only read the data they are given.
 * HTML parts render with output escaped by default; text parts (subject, plain text, SMS, push) do not
 * (they are never interpreted as HTML). Undefined variables are errors (`strictVariables`).
 * No Liquid `globals` for values: a render's scope shadows them, so event data could replace them. System values
 * (`app`…) go into the scope, last, by the registry. The only globals are nil defaults of variables a template
 * only tests (`{% if name %}`), which the data is meant to shadow.
 */
import { IfTag, Liquid, type PropertyAccessToken, type Template, type Token, TokenKind } from 'liquidjs'

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

/** The variable a bare `{% if name %}` tests (its truthiness alone, no filter, no operator); else undefined. */
const testedBy = (condition: IfTag['branches'][number]['value']): string | undefined => {
  const [token, ...more] = condition.initial.postfix
  if (condition.filters.length > 0 || more.length > 0 || token?.kind !== TokenKind.PropertyAccess)
    return undefined
  const { variable, props } = token as PropertyAccessToken
  const [name, ...path] = props as Token[]
  return !variable && path.length === 0 && name?.kind === TokenKind.Word ? name.getText() : undefined
}

/**
 * The top-level variables `templates` read where an absent one fails the render (`strictVariables`): everywhere
 * but in the conditions of an `{% if %}` without filters (`lenientIf`: absent reads as nil there) and in the
 * branch a bare `{% if name %}` takes (taken only when `name` is there and truthy). Conservative: any other
 * tag counts with all it reads.
 */
const strictReads = (engine: Liquid, templates: Template[], reads = new Set<string>()): Set<string> => {
  for (const node of templates) {
    if (!(node instanceof IfTag) || node.branches.some((b) => b.value.filters.length > 0)) {
      for (const name of engine.globalVariablesSync([node])) reads.add(name)
      continue
    }
    for (const { value, templates: branch } of node.branches) {
      const tested = testedBy(value)
      for (const name of strictReads(engine, branch)) if (name !== tested) reads.add(name)
    }
    strictReads(engine, node.elseTemplates ?? [], reads)
  }
  return reads
}

/** Creates the engine pair (escaping for HTML, raw for text). */
export const createTemplateEngine = (): TemplateEngine => {
  const html = new Liquid({ ...options, outputEscape: 'escape' })
  const text = new Liquid(options)
  for (const engine of [html, text]) engine.registerFilter('local_time', localTime)
  const compile = (engine: Liquid, templates: Template[]): CompiledTemplate => {
    // From the parsed form: parsing each source once (not again to analyse it) keeps the parser's code cooler.
    const variables = engine.globalVariablesSync(templates)
    // A variable only tested (`{% if name %}`) reads as nil when absent: LiquidJS throws and catches an error to
    // get there (~4 µs a miss). Given as a nil default (Liquid globals, below the render's scope), it reads as nil
    // at once; read anywhere an absent one is an error, it gets no default and still fails the render.
    const strict = strictReads(engine, templates)
    const tested = variables.filter((name) => !strict.has(name))
    const options =
      tested.length > 0 ? { globals: Object.fromEntries(tested.map((name) => [name, null])) } : {}
    return {
      render: (scope) => engine.renderSync(templates, scope, options) as string,
      variables,
    }
  }
  return {
    parse(source, kind) {
      const engine = kind === 'html' ? html : text
      return compile(engine, engine.parse(source))
    },
  }
}
