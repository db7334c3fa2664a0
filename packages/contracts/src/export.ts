/** JSON Schema files and an AsyncAPI 3 document, generated from the same TypeBox schemas producers and consumers use. */
import { type EventType, EVENT_TYPES, eventCatalog } from './catalog.ts'
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

/** One JSON Schema (draft 2020-12) per known event type, plus the envelope. File name → document. */
export const jsonSchemaFiles = (): Record<string, Record<string, unknown>> => {
  const files: Record<string, Record<string, unknown>> = {
    'envelope.json': {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: schemaId('envelope'),
      title: 'Flotilla event envelope (any type, opaque payload)',
      ...plain(EventEnvelope),
    },
  }
  for (const type of EVENT_TYPES) {
    const entry = eventCatalog[type]
    files[`${type}.v${entry.version}.json`] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: schemaId(`${type}.v${entry.version}`),
      title: type,
      description: entry.description,
      ...plain(envelopeOf(entry.payload, type)),
      properties: {
        ...(plain(envelopeOf(entry.payload, type)).properties as object),
        version: { const: entry.version, type: 'integer' },
      },
    }
  }
  return files
}

const messageName = (type: EventType) => type.replaceAll('.', '_')

/** An AsyncAPI 3.0 document: one channel (the stream), one message per event type, one receive operation per group. */
export const asyncApiDocument = (): Record<string, unknown> => {
  const messages: Record<string, unknown> = {}
  for (const type of EVENT_TYPES) {
    const entry = eventCatalog[type]
    messages[messageName(type)] = {
      name: type,
      title: type,
      summary: entry.description,
      contentType: 'application/json',
      headers: {
        type: 'object',
        description: 'Stream entry fields besides `event` (the JSON envelope)',
        properties: { type: { const: type } },
      },
      payload: { ...plain(envelopeOf(entry.payload, type)) },
      'x-version': entry.version,
      'x-producer': entry.producer,
      'x-consumers': [...consumersOf(type), ...EVERY_EVENT_CONSUMERS],
    }
  }
  const ref = (type: EventType) => ({ $ref: `#/channels/events/messages/${messageName(type)}` })
  const operations: Record<string, unknown> = {
    publishEvents: {
      action: 'send',
      channel: { $ref: '#/channels/events' },
      summary: 'XADD <stream> * type <type> event <json envelope>',
      messages: EVENT_TYPES.map(ref),
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
      messages: types.map(ref),
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Flotilla events',
      version: '1.0.0',
      description:
        'Events on the Flotilla Redis stream. Each entry has two fields: `type` and `event` (the JSON envelope). ' +
        'Unknown types matching the envelope and naming pattern are accepted by audit and analytics as opaque payloads.',
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
