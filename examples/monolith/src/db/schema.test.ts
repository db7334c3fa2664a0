import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api'
import * as schema from './schema.ts'

type Snapshot = Parameters<typeof generateMigration>[0]

it('has a migration for every change to the drizzle schema (nothing is left to generate)', async () => {
  const meta = join(import.meta.dir, '..', '..', 'drizzle', 'meta')
  const journal = (await Bun.file(join(meta, '_journal.json')).json()) as { entries: { idx: number }[] }
  const last = Math.max(...journal.entries.map((e) => e.idx))
  const snapshot = (await Bun.file(
    join(meta, `${String(last).padStart(4, '0')}_snapshot.json`),
  ).json()) as Snapshot
  expect(await generateMigration(snapshot, generateDrizzleJson({ ...schema }, snapshot.id))).toEqual([])
})
