/** The routes of an app, read from its own OpenAPI document (so new routes are attacked without editing the suite). */
import type { Target } from './targets.ts'

export interface Route {
  readonly method: string
  /** With every `{param}` filled in. */
  readonly path: string
  readonly template: string
  readonly protected: boolean
  readonly hasBody: boolean
  readonly query: readonly string[]
  readonly params: readonly string[]
  readonly bodySchema?: JsonSchema
  /** A valid body (from the schema) for routes that take one. */
  readonly body?: unknown
  /** Required query parameters, with valid values. */
  readonly search: string
}

export interface JsonSchema {
  readonly type?: string | readonly string[]
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: readonly string[]
  readonly items?: JsonSchema
  readonly anyOf?: readonly JsonSchema[]
  readonly enum?: readonly unknown[]
  readonly const?: unknown
  readonly format?: string
  readonly pattern?: string
  readonly minLength?: number
  readonly minimum?: number
  readonly minItems?: number
  readonly maxLength?: number
  readonly additionalProperties?: boolean | JsonSchema
  readonly examples?: readonly unknown[]
  readonly example?: unknown
  readonly default?: unknown
}

interface Operation {
  security?: unknown[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  parameters?: { in: string; name: string; required?: boolean; schema?: JsonSchema }[]
}

// Strings tried, in order, for a string schema with a pattern but no example.
const CANDIDATES = ['1-0', 'u_1', 'user.registered', 'x', 'abc', 'a1', 'en', 'email', '1', 'acme']
const NAMED: Record<string, string> = { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }

/** A minimal valid value for a JSON Schema (examples first), so requests get past validation to the check under test. */
const exampleOf = (schema: JsonSchema | undefined, name = ''): unknown => {
  if (!schema) return 'x'
  if (name in NAMED) return NAMED[name]
  if (schema.examples?.[0] !== undefined) return schema.examples[0]
  if (schema.example !== undefined) return schema.example
  if (schema.default !== undefined) return schema.default
  if (schema.const !== undefined) return schema.const
  if (schema.enum?.[0] !== undefined) return schema.enum[0]
  if (schema.anyOf?.[0])
    return exampleOf(schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0], name)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1
  if (type === 'boolean') return true
  if (type === 'array') return Array.from({ length: schema.minItems ?? 0 }, () => exampleOf(schema.items))
  if (type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {}
    for (const key of schema.required ?? []) out[key] = exampleOf(schema.properties?.[key], key)
    return out
  }
  if (schema.format === 'uuid') return crypto.randomUUID()
  if (schema.format === 'date-time') return new Date().toISOString()
  if (schema.format === 'email') return 'someone@example.com'
  if (schema.format === 'uri') return 'https://example.com/'
  const fits = (c: string) =>
    (!schema.pattern || new RegExp(schema.pattern).test(c)) && c.length >= (schema.minLength ?? 0)
  return CANDIDATES.find(fits) ?? 'x'.repeat(Math.max(1, schema.minLength ?? 1))
}

/** Reads `/swagger/json` through `app.handle`. */
export const routesOf = async (t: Target): Promise<Route[]> => {
  const response = await t.handle(new Request('http://localhost/swagger/json'))
  if (response.status !== 200) throw new Error(`${t.name}: /swagger/json answered ${response.status}`)
  const doc = (await response.json()) as { paths: Record<string, Record<string, Operation>> }
  const routes: Route[] = []
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path')
      const params = pathParams.map((p) => p.name)
      const bodySchema = op.requestBody?.content?.['application/json']?.schema
      const search = new URLSearchParams()
      for (const p of op.parameters ?? [])
        if (p.in === 'query' && p.required) search.set(p.name, String(exampleOf(p.schema, p.name)))
      routes.push({
        method: method.toUpperCase(),
        template,
        search: search.size > 0 ? `?${search}` : '',
        path: template.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(String(exampleOf(pathParams.find((p) => p.name === name)?.schema, name))),
        ),
        protected: Array.isArray(op.security) && op.security.length > 0,
        hasBody: op.requestBody !== undefined,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        params,
        ...(bodySchema ? { bodySchema, body: exampleOf(bodySchema) } : {}),
      })
    }
  }
  return routes
}

/** A request to a route with a bearer token (and a JSON body for routes that take one). */
export const requestFor = (
  route: Route,
  token: string | undefined,
  body: unknown = route.body ?? {},
): Request =>
  new Request(`http://localhost${route.path}${route.search}`, {
    method: route.method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(route.hasBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(route.hasBody ? { body: JSON.stringify(body) } : {}),
  })
