/** Stream entry <-> event. Decoding validates strictly; encoding is its exact inverse. */
import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { type EventType, isKnownType, versionEntryOf } from './catalog.ts'
import { EventEnvelope, envelopeOf } from './envelope.ts'
import { ContractError, type ContractProblem } from './errors.ts'
import { ENTRY_FIELDS } from './streams.ts'
import type { AnyEvent, KnownEvent, OpaqueEvent } from './types.ts'

/** Largest `event` field accepted (bytes of JSON). Bigger entries are contract violations. */
export const MAX_EVENT_BYTES = 256 * 1024

export type DecodeResult =
  | { readonly ok: true; readonly known: true; readonly event: KnownEvent }
  | { readonly ok: true; readonly known: false; readonly event: OpaqueEvent }
  | { readonly ok: false; readonly error: ContractError }

/** Stream fields as ioredis returns them (`[k, v, k, v]`), or as an object. */
export type EntryFields = readonly string[] | Readonly<Record<string, string>>

const envelopeCheck = TypeCompiler.Compile(EventEnvelope)
// One compiled check per (type, version), compiled on first use.
// By type, then version: no key string is built per decoded event (it showed in the drain profile).
const knownChecks = new Map<string, Map<number, TypeCheck<TSchema>>>()
/** The full check of one listed version of a type, or undefined when the catalogue does not list it. */
const checkFor = (type: EventType, version: unknown): TypeCheck<TSchema> | undefined => {
  // Only an integer can name a listed version; anything else (an object whose toString is not a function, say)
  // is left to the envelope check, which refuses it, and must never reach String().
  if (!Number.isInteger(version)) return undefined
  let versions = knownChecks.get(type)
  if (versions === undefined) {
    versions = new Map()
    knownChecks.set(type, versions)
  }
  const cached = versions.get(version as number)
  if (cached) return cached
  const listed = versionEntryOf(type, version)
  if (!listed) return undefined
  // Only listed versions are kept: an unlisted one (any number a producer sends) must not grow the map.
  const check = TypeCompiler.Compile(envelopeOf(listed.payload, type))
  versions.set(version as number, check)
  return check
}

const problemsOf = (check: TypeCheck<TSchema>, value: unknown, prefix: string): ContractProblem[] =>
  [...check.Errors(value)].map((e) => ({ path: `${prefix}${e.path}`, message: e.message }))

const fieldsToRecord = (fields: EntryFields): Record<string, string> => {
  if (!Array.isArray(fields)) return fields as Record<string, string>
  const out: Record<string, string> = Object.create(null)
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string
  return out
}

// Keys that must never reach an object merge further down (prototype pollution).
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

// Text that could spell a forbidden key, directly or through a \u escape. Only such text pays for the
// (much slower) reviver walk; everything else is parsed plainly. `proto` covers `__proto__` and `prototype`;
// three substring scans cost ~60 ns on a 190-character event against ~110 ns for one alternation regex.
const suspicious = (text: string): boolean =>
  text.includes('proto') || text.includes('constructor') || text.includes('\\u')

const parseJson = (text: string): { value: unknown } | { problem: ContractProblem } => {
  let forbidden: string | undefined
  try {
    if (!suspicious(text)) return { value: JSON.parse(text) }
    const value = JSON.parse(text, (key, v) => {
      if (FORBIDDEN_KEYS.has(key) && forbidden === undefined) forbidden = key
      return v
    })
    if (forbidden !== undefined) {
      return {
        problem: { path: '/event', message: `key "${forbidden}" is not allowed anywhere in an event` },
      }
    }
    return { value }
  } catch (cause) {
    return { problem: { path: '/event', message: `is not valid JSON (${(cause as Error).message})` } }
  }
}

const validDate = (iso: string) => !Number.isNaN(Date.parse(iso))

/** The full check of a value whose `type` and `version` name a catalogue entry, before any other check. */
const knownCheckFor = (value: unknown): TypeCheck<TSchema> | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const { type, version } = value as { type?: unknown; version?: unknown }
  if (typeof type !== 'string' || !isKnownType(type)) return undefined
  return checkFor(type, version)
}

/**
 * Validates an event object: the envelope always; the payload strictly, against that version's schema, when the
 * type and version are in the catalogue; otherwise the event is opaque (accepted by audit and analytics; a typed
 * consumer of a known type dead-letters a version it cannot handle). Never upcasts: the event is what was published.
 */
export const decodeEvent = (value: unknown, prefix = ''): DecodeResult => {
  // A catalogued type passes one check with its full schema, which holds the envelope too (every payload is
  // an object, every type literal matches the type pattern): the generic envelope check would only repeat it.
  // A failure takes the long way below, so problems are listed exactly as before.
  const known = knownCheckFor(value)
  if (known?.Check(value) && validDate((value as { occurredAt: string }).occurredAt)) {
    return { ok: true, known: true, event: value as KnownEvent }
  }
  if (!envelopeCheck.Check(value)) {
    return { ok: false, error: new ContractError(problemsOf(envelopeCheck, value, prefix)) }
  }
  if (!validDate(value.occurredAt)) {
    return {
      ok: false,
      error: new ContractError([{ path: `${prefix}/occurredAt`, message: 'is not a real date' }]),
    }
  }
  const check = isKnownType(value.type) ? checkFor(value.type, value.version) : undefined
  if (check) {
    if (!check.Check(value)) return { ok: false, error: new ContractError(problemsOf(check, value, prefix)) }
    return { ok: true, known: true, event: value as unknown as KnownEvent }
  }
  return { ok: true, known: false, event: value }
}

/** Decodes one stream entry (`type` + `event` fields) into a typed event, or a ContractError listing every problem. */
export const decodeEntry = (fields: EntryFields | null | undefined): DecodeResult => {
  if (fields == null) {
    return { ok: false, error: new ContractError([{ path: '', message: 'entry has no fields (deleted?)' }]) }
  }
  const record = fieldsToRecord(fields)
  const problems: ContractProblem[] = []
  const type = record[ENTRY_FIELDS.type]
  const text = record[ENTRY_FIELDS.event]
  if (typeof type !== 'string') problems.push({ path: '/type', message: 'field is missing' })
  if (typeof text !== 'string') problems.push({ path: '/event', message: 'field is missing' })
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only long text pays for counting bytes.
  if (
    typeof text === 'string' &&
    text.length * 3 > MAX_EVENT_BYTES &&
    Buffer.byteLength(text) > MAX_EVENT_BYTES
  ) {
    problems.push({ path: '/event', message: `is larger than ${MAX_EVENT_BYTES} bytes` })
  }
  if (problems.length > 0 || typeof text !== 'string')
    return { ok: false, error: new ContractError(problems) }
  const parsed = parseJson(text)
  if ('problem' in parsed) return { ok: false, error: new ContractError([parsed.problem]) }
  const result = decodeEvent(parsed.value, '/event')
  if (result.ok && result.event.type !== type) {
    return {
      ok: false,
      error: new ContractError([
        { path: '/type', message: `field "${type}" does not match the envelope type "${result.event.type}"` },
      ]),
    }
  }
  return result
}

/** The two stream fields of an event, in wire order. `decodeEntry(encodeEntry(e))` gives `e` back. */
export const encodeEntry = (
  event: AnyEvent,
): [typeof ENTRY_FIELDS.type, string, typeof ENTRY_FIELDS.event, string] => [
  ENTRY_FIELDS.type,
  event.type,
  ENTRY_FIELDS.event,
  JSON.stringify(event),
]

/** Validates an event before it is published; throws the ContractError so producers fail loudly. */
export const assertValidEvent = (event: AnyEvent): void => {
  const result = decodeEvent(event)
  if (!result.ok) throw result.error
}
