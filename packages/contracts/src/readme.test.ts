import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { EVENT_TYPES, eventCatalog } from './catalog.ts'

it("lists every catalogue event in README's event table with its version and producer", async () => {
  const readme = await Bun.file(join(import.meta.dir, '..', '..', '..', 'README.md')).text()
  for (const type of EVENT_TYPES) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${type}\` |`))
    expect(row, `README has no row for ${type}`).toBeDefined()
    const cells = row!.split('|').map((c) => c.trim())
    expect(cells[2]).toBe(String(eventCatalog[type].version))
    expect(cells[3]).toBe(eventCatalog[type].producer)
  }
})
