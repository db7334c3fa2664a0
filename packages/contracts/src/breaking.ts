/**
 * Breaking-change detection between two JSON Schemas of the same event version (in the spirit of `buf breaking`):
 * anything an event valid before could fail, or a field a consumer read that is gone. Adding an optional field or
 * a new version is not breaking; removing or renaming a field, narrowing a type, a new required field and a removed
 * enum value are.
 */

/** A JSON Schema as the generated files hold it. */
export type JsonSchema = { readonly [keyword: string]: unknown }

export interface BreakingChange {
  /** Where, as a JSON pointer into the event (`/payload/reason`). */
  readonly path: string
  readonly kind:
    | 'field-removed'
    | 'field-required'
    | 'type-narrowed'
    | 'enum-value-removed'
    | 'constraint-narrowed'
    | 'version-removed'
  readonly message: string
}

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The JSON types a schema allows: its `type`, or those of every branch of a union; undefined when open. */
const typesOf = (s: JsonSchema): string[] | undefined => {
  if (typeof s.type === 'string') return [s.type]
  if (Array.isArray(s.type)) return s.type.map(String)
  const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined
  if (!union) return undefined
  const branches = union.map((b) => (isSchema(b) ? typesOf(b) : undefined))
  return branches.every((b) => b !== undefined) ? [...new Set(branches.flat() as string[])] : undefined
}

/** The values a schema allows when it is a closed set: `const`, `enum`, or a union of constants. */
const literalsOf = (s: JsonSchema): unknown[] | undefined => {
  if ('const' in s) return [s.const]
  if (Array.isArray(s.enum)) return s.enum
  const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined
  if (union?.every((b) => isSchema(b) && 'const' in b)) return union.map((b) => (b as JsonSchema).const)
  return undefined
}

const show = (value: unknown) => JSON.stringify(value)

// Keyword → whether a new value narrows the old one (undefined = no bound).
const NARROWER: Readonly<Record<string, (before: number | undefined, after: number) => boolean>> = {
  minLength: (b, a) => a > (b ?? 0),
  minimum: (b, a) => b === undefined || a > b,
  exclusiveMinimum: (b, a) => b === undefined || a > b,
  minItems: (b, a) => a > (b ?? 0),
  minProperties: (b, a) => a > (b ?? 0),
  maxLength: (b, a) => b === undefined || a < b,
  maximum: (b, a) => b === undefined || a < b,
  exclusiveMaximum: (b, a) => b === undefined || a < b,
  maxItems: (b, a) => b === undefined || a < b,
  maxProperties: (b, a) => b === undefined || a < b,
}

/**
 * Every breaking change from `before` to `after` (empty when `after` accepts whatever `before` did and keeps its
 * fields). Compares the keywords TypeBox emits; an unrecognised change of `pattern` or `format` counts as narrowing.
 * @example breakingChanges(committed, current) // [{ path: '/payload/via', kind: 'field-removed', message: … }]
 */
export const breakingChanges = (before: JsonSchema, after: JsonSchema, path = ''): BreakingChange[] => {
  const changes: BreakingChange[] = []
  const at = path || '/'
  const add = (kind: BreakingChange['kind'], message: string) => changes.push({ path: at, kind, message })

  const beforeTypes = typesOf(before)
  const afterTypes = typesOf(after)
  if (afterTypes) {
    const lost = beforeTypes ? beforeTypes.filter((t) => !afterTypes.includes(t)) : ['any']
    // integer ⊂ number: number → integer narrows, integer → number widens.
    const narrowed = lost.filter((t) => !(t === 'integer' && afterTypes.includes('number')))
    if (narrowed.length > 0)
      add('type-narrowed', `type ${show(beforeTypes ?? 'any')} became ${show(afterTypes)}`)
  }

  const beforeValues = literalsOf(before)
  const afterValues = literalsOf(after)
  if (afterValues) {
    if (!beforeValues) add('type-narrowed', `any value became one of ${show(afterValues)}`)
    else
      for (const value of beforeValues)
        if (!afterValues.some((v) => show(v) === show(value)))
          add('enum-value-removed', `value ${show(value)} is no longer allowed`)
  }

  for (const [keyword, narrows] of Object.entries(NARROWER)) {
    const b = before[keyword]
    const a = after[keyword]
    if (typeof a === 'number' && narrows(typeof b === 'number' ? b : undefined, a))
      add('constraint-narrowed', `${keyword} ${b === undefined ? '(none)' : show(b)} became ${show(a)}`)
  }
  for (const keyword of ['pattern', 'format', 'multipleOf'] as const) {
    if (after[keyword] !== undefined && show(after[keyword]) !== show(before[keyword]))
      add(
        'constraint-narrowed',
        `${keyword} ${before[keyword] === undefined ? '(none)' : show(before[keyword])} became ${show(after[keyword])}`,
      )
  }

  const beforeProps = isSchema(before.properties) ? before.properties : {}
  const afterProps = isSchema(after.properties) ? after.properties : {}
  const required = (s: JsonSchema) => new Set(Array.isArray(s.required) ? s.required.map(String) : [])
  const beforeRequired = required(before)
  const added = Object.keys(afterProps).filter((k) => !(k in beforeProps))
  for (const [key, schema] of Object.entries(beforeProps)) {
    const child = `${path}/${key}`
    const next = afterProps[key]
    if (!isSchema(next)) {
      const hint = added.length > 0 ? ` (renamed to ${added.map((k) => `"${k}"`).join(' or ')}?)` : ''
      changes.push({ path: child, kind: 'field-removed', message: `field "${key}" was removed${hint}` })
    } else if (isSchema(schema)) changes.push(...breakingChanges(schema, next, child))
  }
  for (const key of required(after)) {
    if (beforeRequired.has(key)) continue
    changes.push({
      path: `${path}/${key}`,
      kind: 'field-required',
      message: key in beforeProps ? `field "${key}" became required` : `new required field "${key}"`,
    })
  }
  if (after.additionalProperties === false && before.additionalProperties !== false && 'properties' in before)
    add('constraint-narrowed', 'additional properties are no longer allowed')
  if (isSchema(before.items) && isSchema(after.items))
    changes.push(...breakingChanges(before.items, after.items, `${path}/items`))
  return changes
}

/**
 * Compares committed schema files with the current ones, file by file (`<type>.v<N>.json` → document): a version
 * that disappeared and every breaking change inside a version that stayed. New files (new versions, new types)
 * pass.
 */
export const breakingChangesOfFiles = (
  committed: Readonly<Record<string, JsonSchema>>,
  current: Readonly<Record<string, JsonSchema>>,
): { readonly file: string; readonly change: BreakingChange }[] =>
  Object.entries(committed).flatMap(([file, before]) => {
    const after = current[file]
    if (!after)
      return [
        {
          file,
          change: {
            path: '/',
            kind: 'version-removed' as const,
            message:
              'this version is no longer in the catalogue (producers that still send it are dead-lettered)',
          },
        },
      ]
    return breakingChanges(before, after).map((change) => ({ file, change }))
  })
