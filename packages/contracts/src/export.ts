/** JSON Schema files and an AsyncAPI 3 document, generated from the same TypeBox schemas producers and consumers use. */
import {
  EVENT_TYPES,
  type EventType,
  eventCatalog,
  latestVersionOf,
  versionEntryOf,
  versionsOfType,
} from './catalog.ts'
import { EventEnvelope, envelopeOf } from './envelope.ts'
import { consumersOf, EVERY_EVENT_CONSUMERS, SERVICE_NAMES, SERVICES } from './services.ts'
import { DEFAULT_EVENTS_STREAM } from './streams.ts'
import { PUBLIC_HTTPS_URL_FORMAT } from './urls.ts'

// Formats only TypeBox knows (registered in TypeScript). Each schema that uses one also carries a `pattern`,
// which is all another language's validator gets: the exported files use standard keywords and formats only.
const CUSTOM_FORMATS: ReadonlySet<unknown> = new Set([PUBLIC_HTTPS_URL_FORMAT])

// TypeBox schemas are JSON Schema already; a JSON round trip drops the symbol-keyed TypeBox metadata.
const plain = (schema: unknown): Record<string, unknown> =>
  JSON.parse(
    JSON.stringify(schema, function (this: Record<string, unknown>, key, value) {
      if (key !== 'format' || !CUSTOM_FORMATS.has(value)) return value
      if (typeof this.pattern !== 'string') throw new Error(`format "${value}" needs a pattern beside it`)
      return undefined
    }),
  )

const schemaId = (type: string) => `https://flotilla.dev/schemas/events/${type}.json`

/** Every (type, version) the catalogue lists, in catalogue order, oldest version first. */
const catalogVersions = () =>
  EVENT_TYPES.flatMap((type) => versionsOfType(type).map((version) => ({ type, version })))

/** The envelope of one version of a type, as plain JSON Schema: `version` is that very number. */
const envelopeSchemaOf = (type: EventType, version: number): Record<string, unknown> => {
  const listed = versionEntryOf(type, version)
  if (!listed) throw new Error(`${type} has no version ${version}`)
  const schema = plain(envelopeOf(listed.payload, type))
  return {
    ...schema,
    properties: { ...(schema.properties as object), version: { const: version, type: 'integer' } },
  }
}

/** One JSON Schema (draft 2020-12) per version of each known event type (`<type>.v<N>.json`), plus the envelope. File name → document. */
export const jsonSchemaFiles = (): Record<string, Record<string, unknown>> => {
  const files: Record<string, Record<string, unknown>> = {
    'envelope.json': {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: schemaId('envelope'),
      title: 'Flotilla event envelope (any type, opaque payload)',
      ...plain(EventEnvelope),
    },
  }
  for (const { type, version } of catalogVersions()) {
    files[`${type}.v${version}.json`] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: schemaId(`${type}.v${version}`),
      title: type,
      description: eventCatalog[type].description,
      ...envelopeSchemaOf(type, version),
    }
  }
  return files
}

const messageName = (type: EventType, version: number) => `${type.replaceAll('.', '_')}_v${version}`

/**
 * An AsyncAPI 3.0 document: one channel (the stream), one message per version of each event type, one receive
 * operation per group.
 */
export const asyncApiDocument = (): Record<string, unknown> => {
  const messages: Record<string, unknown> = {}
  for (const { type, version } of catalogVersions()) {
    const entry = eventCatalog[type]
    const latest = latestVersionOf(type)
    messages[messageName(type, version)] = {
      name: `${type}.v${version}`,
      title: `${type} v${version}`,
      summary:
        version === latest
          ? entry.description
          : `${entry.description} (older version; v${latest} is the latest)`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        description: 'Stream entry fields besides `event` (the JSON envelope)',
        properties: { type: { const: type } },
      },
      payload: envelopeSchemaOf(type, version),
      'x-version': version,
      'x-latest': version === latest,
      'x-producer': entry.producer,
      'x-consumers': [...consumersOf(type), ...EVERY_EVENT_CONSUMERS],
    }
  }
  const refs = (types: readonly EventType[]) =>
    catalogVersions()
      .filter((v) => types.includes(v.type))
      .map((v) => ({ $ref: `#/channels/events/messages/${messageName(v.type, v.version)}` }))
  const operations: Record<string, unknown> = {
    publishEvents: {
      action: 'send',
      channel: { $ref: '#/channels/events' },
      summary: 'XADD <stream> * type <type> event <json envelope>',
      messages: refs(EVENT_TYPES),
    },
  }
  for (const group of SERVICE_NAMES) {
    const types = EVERY_EVENT_CONSUMERS.includes(group)
      ? EVENT_TYPES
      : EVENT_TYPES.filter((t) => consumersOf(t).includes(group))
    operations[`consume_${group}`] = {
      action: 'receive',
      channel: { $ref: '#/channels/events' },
      summary: `Consumer group "${group}" of the ${group} service (${SERVICES[group].summary}; XREADGROUP / XACK; dead letters on "{${DEFAULT_EVENTS_STREAM}}:dlq:${group}")`,
      messages: refs(types),
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Flotilla events',
      version: '1.0.0',
      description:
        'Events on the Flotilla Redis stream. Each entry has two fields: `type` and `event` (the JSON envelope). ' +
        'Each version of a type is its own message; a consumer upcasts older versions to the one it handles and ' +
        'dead-letters newer ones (UNSUPPORTED_VERSION). Unknown types matching the envelope and naming pattern are ' +
        'accepted by audit and analytics as opaque payloads.',
    },
    defaultContentType: 'application/json',
    servers: { local: { host: '127.0.0.1:6379', protocol: 'redis', description: 'REDIS_URL' } },
    channels: {
      events: {
        address: DEFAULT_EVENTS_STREAM,
        description: 'The events stream (EVENTS_STREAM overrides the name).',
        messages: Object.fromEntries(Object.entries(messages)),
      },
    },
    operations,
  }
}
