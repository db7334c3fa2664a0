import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { openDatabase } from './client.ts'
import { MIGRATIONS } from './migrations.ts'

const dir = await mkdtemp(join(tmpdir(), 'notifications-db-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('migrations', () => {
  it('applies every migration once, in order, and records each by name', async () => {
    const url = `file:${join(dir, 'fresh.db')}`
    const first = await openDatabase({ url })
    first.close()
    const again = await openDatabase({ url }) // reopening applies nothing twice
    const recorded = await again.client.execute('SELECT name FROM schema_migrations ORDER BY version')
    expect(recorded.rows.map((r) => String(r.name))).toEqual(MIGRATIONS.map((m) => m.name))
    again.close()
  })

  it('upgrades a database left at version 1 without losing its rows', async () => {
    const url = `file:${join(dir, 'old.db')}`
    const client = createClient({ url })
    await migrate(client, MIGRATIONS.slice(0, 1))
    await client.execute(
      "INSERT INTO deliveries (id, event_id, event_type, channel, recipient, user_id, template, locale, category, status, created_at, updated_at) VALUES ('d1', 'e1', 'user.registered', 'email', 'a@example.com', 'u1', 'welcome', 'en', 'account', 'sent', 1, 1)",
    )
    client.close()
    const upgraded = await openDatabase({ url })
    const row = await upgraded.client.execute("SELECT status, key_generation FROM deliveries WHERE id = 'd1'")
    expect(row.rows[0]).toMatchObject({ status: 'sent', key_generation: 0 })
    upgraded.close()
  })

  it('keeps one delivery per (event id, channel, recipient)', async () => {
    const database = await openDatabase({ url: `file:${join(dir, 'unique.db')}` })
    const insert = (id: string) =>
      database.client.execute({
        sql: "INSERT INTO deliveries (id, event_id, event_type, channel, recipient, user_id, template, locale, category, status, created_at, updated_at) VALUES (?, 'e1', 't', 'email', 'a@example.com', 'u1', 'welcome', 'en', 'account', 'queued', 1, 1)",
        args: [id],
      })
    await insert('first')
    await expect(insert('second')).rejects.toThrow(/UNIQUE/)
    database.close()
  })
})
