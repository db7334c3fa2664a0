import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import { createClient } from '@libsql/client'
import { type Migration, migrate } from './migrate.ts'

const dir = await mkdtemp(join(tmpdir(), 'kit-migrate-'))
afterAll(() => rm(dir, { recursive: true, force: true }))
let files = 0
const freshUrl = () => `file:${join(dir, `db-${++files}.db`)}`

// Neither step may run twice: a second CREATE TABLE fails, a second INSERT leaves a duplicate row.
const STEPS: Migration[] = [
  { name: 'create t', statements: ['CREATE TABLE t (x INTEGER NOT NULL)', 'INSERT INTO t VALUES (1)'] },
  { name: 'add 2', statements: ['INSERT INTO t VALUES (2)'] },
]
const rowsOf = async (url: string) => {
  const client = createClient({ url })
  const t = (await client.execute('SELECT x FROM t ORDER BY rowid')).rows.map((r) => Number(r.x))
  const recorded = (await client.execute('SELECT name FROM schema_migrations ORDER BY rowid')).rows.map((r) =>
    String(r.name),
  )
  client.close()
  return { t, recorded }
}

describe('migrate', () => {
  it('applies each migration once, in list order, and records its name', async () => {
    const url = freshUrl()
    const client = createClient({ url })
    expect(await migrate(client, STEPS.slice(0, 1))).toEqual(['create t'])
    expect(await migrate(client, STEPS)).toEqual(['add 2'])
    expect(await migrate(client, STEPS)).toEqual([])
    client.close()
    expect(await rowsOf(url)).toEqual({ t: [1, 2], recorded: ['create t', 'add 2'] })
  })

  it('rolls a failing migration back whole and keeps the ones before it', async () => {
    const url = freshUrl()
    const client = createClient({ url })
    const broken: Migration = {
      name: 'broken',
      statements: ['INSERT INTO t VALUES (3)', 'INSERT INTO nowhere VALUES (1)'],
    }
    await expect(migrate(client, [...STEPS, broken])).rejects.toThrow(/nowhere/)
    client.close()
    expect(await rowsOf(url)).toEqual({ t: [1, 2], recorded: ['create t', 'add 2'] })
  })

  it('runs a step with `when` only if its query returns a row, and records it either way', async () => {
    const url = freshUrl()
    const client = createClient({ url })
    const ifEmpty = (x: number): Migration => ({
      name: `add ${x} if only 1 and 2`,
      when: 'SELECT 1 WHERE (SELECT count(*) FROM t) = 2',
      statements: [`INSERT INTO t VALUES (${x})`],
    })
    await migrate(client, STEPS)
    expect(await migrate(client, [...STEPS, ifEmpty(3)])).toEqual(['add 3 if only 1 and 2'])
    expect(await migrate(client, [...STEPS, ifEmpty(3), ifEmpty(4)])).toEqual(['add 4 if only 1 and 2'])
    expect(await migrate(client, [...STEPS, ifEmpty(3), ifEmpty(4)])).toEqual([])
    client.close()
    expect((await rowsOf(url)).t).toEqual([1, 2, 3])
  })

  it('takes no write lock when every migration is recorded', async () => {
    const url = freshUrl()
    const client = createClient({ url, timeout: 10 })
    await migrate(client, STEPS)
    const writer = createClient({ url })
    const held = await writer.transaction('write') // another connection holds the write lock
    try {
      expect(await migrate(client, STEPS, { busy: { deadlineMs: 50 } })).toEqual([])
      await expect(
        migrate(client, [...STEPS, { name: 'add 3', statements: ['INSERT INTO t VALUES (3)'] }], {
          busy: { deadlineMs: 50 },
        }),
      ).rejects.toThrow(/SQLITE_BUSY|locked/)
    } finally {
      held.close()
      writer.close()
      client.close()
    }
  })

  it('refuses a list that names one migration twice, before touching the database', async () => {
    const url = freshUrl()
    const client = createClient({ url })
    await expect(migrate(client, [...STEPS, { name: 'add 2', statements: [] }])).rejects.toThrow(
      /listed twice/,
    )
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    expect(tables.rows).toEqual([])
    client.close()
  })

  it('continues a table written by the earlier runners (integer key named id or version)', async () => {
    for (const key of ['id', 'version']) {
      const url = freshUrl()
      const client = createClient({ url })
      await client.batch([
        `CREATE TABLE schema_migrations (${key} INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
        'CREATE TABLE t (x INTEGER NOT NULL)',
        'INSERT INTO t VALUES (1)',
        `INSERT INTO schema_migrations (${key}, name, applied_at) VALUES (1, 'create t', 0)`,
      ])
      expect(await migrate(client, STEPS)).toEqual(['add 2'])
      const keys = await client.execute(`SELECT ${key} AS k FROM schema_migrations ORDER BY ${key}`)
      expect(keys.rows.map((r) => Number(r.k))).toEqual([1, 2])
      client.close()
      expect(await rowsOf(url)).toEqual({ t: [1, 2], recorded: ['create t', 'add 2'] })
    }
  })

  it('applies each migration exactly once when two processes boot on one file at the same moment', async () => {
    const url = freshUrl()
    const startAt = Date.now() + 1500
    const runs = [0, 1].map(async () => {
      const child = Bun.spawn(
        bunCommand(
          join(import.meta.dir, 'fixtures', 'migrate-process.ts'),
          JSON.stringify({ url, startAt, migrations: STEPS }),
        ),
        { env: testProcessEnv(), stdout: 'pipe', stderr: 'inherit' },
      )
      const out = await new Response(child.stdout).text()
      expect(await child.exited).toBe(0)
      return JSON.parse(out) as string[]
    })
    const applied = (await Promise.all(runs)).flat()
    expect(applied.toSorted()).toEqual(['add 2', 'create t'])
    expect(await rowsOf(url)).toEqual({ t: [1, 2], recorded: ['create t', 'add 2'] })
  }, 20_000)
})
