import { describe, expect, it } from 'bun:test'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { EVENT_TYPES, versionsOfType } from './catalog.ts'
import { asyncApiDocument, jsonSchemaFiles } from './export.ts'

const generated = join(import.meta.dir, '..', 'generated')

describe('contract export', () => {
  const versionCount = EVENT_TYPES.reduce((n, type) => n + versionsOfType(type).length, 0)

  it('has one JSON Schema per version of each event type plus the envelope', () => {
    const files = jsonSchemaFiles()
    expect(Object.keys(files)).toHaveLength(versionCount + 1)
    expect(files['user.password.changed.v1.json']).toBeDefined()
    expect(files['user.password.changed.v2.json']).toBeDefined()
    for (const doc of Object.values(files))
      expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
  })

  it('describes every version of every event type as its own message in the AsyncAPI document', () => {
    const doc = asyncApiDocument() as { asyncapi: string; channels: { events: { messages: object } } }
    expect(doc.asyncapi).toBe('3.0.0')
    expect(Object.keys(doc.channels.events.messages)).toHaveLength(versionCount)
    expect(Object.keys(doc.channels.events.messages)).toContain('user_password_changed_v2')
  })

  it('matches the committed files (run `bun run contracts:export` when this fails)', async () => {
    const files = jsonSchemaFiles()
    const onDisk = (await readdir(join(generated, 'schemas'))).sort()
    expect(onDisk).toEqual(Object.keys(files).sort())
    for (const [name, doc] of Object.entries(files)) {
      expect(await Bun.file(join(generated, 'schemas', name)).text()).toBe(
        `${JSON.stringify(doc, null, 2)}\n`,
      )
    }
    expect(await Bun.file(join(generated, 'asyncapi.json')).text()).toBe(
      `${JSON.stringify(asyncApiDocument(), null, 2)}\n`,
    )
  })
})
