import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { createEvent } from './create-event.ts'
import { NotificationRequested } from './events/notification.ts'
import { isPublicHttpsUrl, PUBLIC_HTTPS_URL_FORMAT } from './urls.ts'

// The committed files, as another language's toolchain reads them (export.test.ts checks they are current).
const generated = join(import.meta.dir, '..', 'generated')
const schemaFiles = readdirSync(join(generated, 'schemas')).filter((f) => f.endsWith('.json'))
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
const asyncApi = readJson(join(generated, 'asyncapi.json')) as {
  channels: { events: { messages: Record<string, { name: string; payload: Record<string, unknown> }> } }
}

/** Strict Ajv (draft 2020-12): an unknown keyword or format, or an ambiguous schema, fails compilation. */
const strictAjv = () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats(ajv)
  return ajv
}

const pushRequest = (endpoint: string) =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId: 'u_1', pushSubscriptions: [{ endpoint, keys: { p256dh: 'p', auth: 'a' } }] },
      template: 'welcome',
    },
    { source: 'monolith' },
  )

describe('exported JSON Schemas', () => {
  it('compiles every generated schema file with strict Ajv 2020', () => {
    expect(schemaFiles.length).toBeGreaterThan(1)
    for (const file of schemaFiles) {
      const schema = readJson(join(generated, 'schemas', file))
      expect(() => strictAjv().compile(schema), file).not.toThrow()
    }
  })

  it('compiles every AsyncAPI message payload with strict Ajv 2020, each taking only its own type and version', () => {
    const messages = Object.values(asyncApi.channels.events.messages)
    expect(messages.length).toBe(schemaFiles.length - 1)
    const event = pushRequest('https://push.example.com/x')
    for (const message of messages) {
      const validate = strictAjv().compile(message.payload)
      expect(validate(event), message.name).toBe(message.name === `${event.type}.v${event.version}`)
    }
  })

  it('uses no custom format; the push endpoint carries a pattern instead', () => {
    for (const file of schemaFiles)
      expect(readFileSync(join(generated, 'schemas', file), 'utf8')).not.toContain(PUBLIC_HTTPS_URL_FORMAT)
    expect(JSON.stringify(asyncApi)).not.toContain(PUBLIC_HTTPS_URL_FORMAT)
  })

  it('checks a push endpoint by pattern in JSON Schema and fully in TypeScript', () => {
    const validate = strictAjv().compile(
      readJson(join(generated, 'schemas', 'notification.requested.v1.json')),
    )
    expect(validate(pushRequest('https://fcm.googleapis.com/fcm/send/abc:def'))).toBe(true)
    for (const refused of ['http://push.example.com/x', 'https://user:pw@push.example.com/x', 'https://a b/'])
      expect(validate(pushRequest(refused)), refused).toBe(false)
    // What a regular expression cannot tell: the host is private. The pattern lets it pass; TypeBox does not.
    const privateHost = 'https://169.254.169.254/latest/meta-data/'
    expect(isPublicHttpsUrl(privateHost)).toBe(false)
    expect(validate(pushRequest(privateHost))).toBe(true)
    expect(Value.Check(NotificationRequested, pushRequest(privateHost).payload)).toBe(false)
    expect(Value.Check(NotificationRequested, pushRequest('https://push.example.com/x').payload)).toBe(true)
  })
})
