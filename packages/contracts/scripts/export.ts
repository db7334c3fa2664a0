/** Writes packages/contracts/generated/: one JSON Schema per event type and the AsyncAPI document. */
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { asyncApiDocument, jsonSchemaFiles } from '../src/export.ts'

const out = join(import.meta.dir, '..', 'generated')
await rm(join(out, 'schemas'), { recursive: true, force: true })
await mkdir(join(out, 'schemas'), { recursive: true })
for (const [name, doc] of Object.entries(jsonSchemaFiles())) {
  await Bun.write(join(out, 'schemas', name), `${JSON.stringify(doc, null, 2)}\n`)
}
await Bun.write(join(out, 'asyncapi.json'), `${JSON.stringify(asyncApiDocument(), null, 2)}\n`)
console.log(
  `wrote ${(await readdir(join(out, 'schemas'))).length} JSON Schema files and asyncapi.json to ${out}`,
)
