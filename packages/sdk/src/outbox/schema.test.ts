import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api'
import { pgTable, text } from 'drizzle-orm/pg-core'
import { OUTBOX_MIGRATIONS_FOLDER } from './migrate.ts'
import { flotillaOutbox } from './schema.ts'

type Snapshot = Parameters<typeof generateMigration>[0]

const lastSnapshot = async (): Promise<Snapshot> => {
  const journal = (await Bun.file(join(OUTBOX_MIGRATIONS_FOLDER, 'meta', '_journal.json')).json()) as {
    entries: { idx: number }[]
  }
  const last = Math.max(...journal.entries.map((e) => e.idx))
  const file = join(OUTBOX_MIGRATIONS_FOLDER, 'meta', `${String(last).padStart(4, '0')}_snapshot.json`)
  return (await Bun.file(file).json()) as Snapshot
}

describe('outbox migration', () => {
  it('matches the drizzle schema: nothing is left to generate', async () => {
    const snapshot = await lastSnapshot()
    const current = generateDrizzleJson({ flotillaOutbox }, snapshot.id)
    expect(await generateMigration(snapshot, current)).toEqual([])
  })

  it('would notice a schema change that has no migration', async () => {
    const snapshot = await lastSnapshot()
    // A pure addition (a removal would make drizzle-kit ask interactively whether it was a rename).
    const extra = pgTable('flotilla_outbox_extra', { note: text('note') })
    const statements = await generateMigration(
      snapshot,
      generateDrizzleJson({ flotillaOutbox, extra }, snapshot.id),
    )
    expect(statements.join('\n')).toContain('CREATE TABLE "flotilla_outbox_extra"')
  })
})
