import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { EVENT_TYPES, eventCatalog, versionsOfType } from './catalog.ts'
import { type Consumes, consumersOf, SERVICE_NAMES, SERVICES } from './services.ts'

it("lists every catalogue event in README's event table with its versions and producer", async () => {
  const readme = await Bun.file(join(import.meta.dir, '..', '..', '..', 'README.md')).text()
  for (const type of EVENT_TYPES) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${type}\` |`))
    expect(row, `README has no row for ${type}`).toBeDefined()
    const cells = row!.split('|').map((c) => c.trim())
    expect(cells[2]).toBe(versionsOfType(type).join(', '))
    expect(cells[3]).toBe(eventCatalog[type].producer)
  }
})

it("lists every service in README's service table with its port and what its group consumes", async () => {
  const readme = await Bun.file(join(import.meta.dir, '..', '..', '..', 'README.md')).text()
  const rows = readme.split('\n').filter((line) => /^\| [a-z]+ \| \d+ \|/.test(line))
  expect(rows.map((row) => row.split('|')[1]?.trim())).toEqual(SERVICE_NAMES)
  for (const name of SERVICE_NAMES) {
    const cells =
      rows
        .find((row) => row.startsWith(`| ${name} |`))
        ?.split('|')
        .map((c) => c.trim()) ?? []
    expect(cells[2]).toBe(String(SERVICES[name].port))
    const consumes: Consumes = SERVICES[name].consumes
    const listed =
      cells[4] === 'every event'
        ? 'every event'
        : (cells[4]?.match(/`[^`]+`/g) ?? []).map((c) => c.slice(1, -1))
    expect(listed).toEqual(consumes === 'every event' ? 'every event' : [...consumes])
  }
})

it("names each event's consumers in README's event table as the service list says", async () => {
  const readme = await Bun.file(join(import.meta.dir, '..', '..', '..', 'README.md')).text()
  for (const type of EVENT_TYPES) {
    const cells =
      readme
        .split('\n')
        .find((line) => line.startsWith(`| \`${type}\` |`))
        ?.split('|') ?? []
    const named = (cells[4] ?? '').match(/\b[a-z]+\b(?= \()|^\s*[a-z]+\s*$/g)?.map((c) => c.trim()) ?? []
    expect(named).toEqual(consumersOf(type))
  }
})
