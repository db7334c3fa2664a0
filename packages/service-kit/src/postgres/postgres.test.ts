import { afterAll, describe, expect, it } from 'bun:test'
import postgres from 'postgres'
import { AppError } from '../errors/app-error.ts'
import { databaseName, isPostgresUrl, openPostgres, postgresText } from './connection.ts'
import { migratePostgres, postgresDdlOf } from './migrate.ts'
import { createTestSchema, type TestSchema } from './testing.ts'

const schemas: TestSchema[] = []
afterAll(() => Promise.all(schemas.map((s) => s.cleanup())))
const schema = async () => {
  const s = await createTestSchema('kit_pg_test')
  schemas.push(s)
  return s
}

const MIGRATIONS = [
  {
    name: 'one',
    statements: [
      'CREATE TABLE t (k TEXT NOT NULL, at INTEGER NOT NULL, b BLOB, r REAL, PRIMARY KEY (k)) WITHOUT ROWID',
    ],
  },
  { name: 'two', statements: ['ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0'] },
]

describe('postgresDdlOf', () => {
  it('writes a libSQL migration as PostgreSQL DDL: 64-bit integers, bytea, double precision, no WITHOUT ROWID', () => {
    expect(postgresDdlOf(MIGRATIONS)).toEqual([
      {
        name: 'one',
        statements: [
          'CREATE TABLE t (k TEXT NOT NULL, at BIGINT NOT NULL, b BYTEA, r DOUBLE PRECISION, PRIMARY KEY (k))',
        ],
      },
      { name: 'two', statements: ['ALTER TABLE t ADD COLUMN n BIGINT NOT NULL DEFAULT 0'] },
    ])
  })

  it('refuses what has no portable translation (triggers, AUTOINCREMENT, pragmas), naming the migration', () => {
    for (const statement of [
      'CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT)',
      'CREATE TRIGGER x BEFORE DELETE ON a BEGIN SELECT 1; END',
      'PRAGMA journal_mode = WAL',
    ])
      expect(() => postgresDdlOf([{ name: 'bad', statements: [statement] }])).toThrow(/migration "bad"/)
  })
})

describe('migratePostgres and openPostgres', () => {
  it('migrates once when several pools boot together, in the table it is given, and returns numbers as numbers', async () => {
    const s = await schema()
    const options = { table: 'kit_schema_migrations', lockName: 'flotilla.kit-test.migrate' }
    const connections = Array.from({ length: 3 }, () =>
      openPostgres({
        url: s.url,
        store: 'kit-test',
        migrations: postgresDdlOf(MIGRATIONS),
        ...options,
        max: 2,
      }),
    )
    try {
      await Promise.all(connections.map((c) => c.migrated))
      const first = connections[0]?.sql
      if (!first) throw new Error('no connection')
      const applied = await first.unsafe<{ name: string }[]>(
        'SELECT name FROM kit_schema_migrations ORDER BY name',
      )
      expect(applied.map((r) => r.name)).toEqual(['one', 'two'])
      expect(await migratePostgres(first, postgresDdlOf(MIGRATIONS), options)).toEqual([])
      await first.unsafe("INSERT INTO t (k, at) VALUES ('a', 1767225600000)")
      const [row] = await first.unsafe<{ at: unknown; n: unknown }[]>(
        'SELECT at, n, count(*) OVER () AS c FROM t',
      )
      expect(row).toMatchObject({ at: 1767225600000, n: 0 })
      expect(await connections[1]?.check()).toBe(databaseName(s.url))
    } finally {
      await Promise.all(connections.map((c) => c.close()))
    }
  })

  it('runs a step with `when` only if its query returns a row, and records it either way', async () => {
    const s = await schema()
    const options = { table: 'kit_schema_migrations', lockName: 'flotilla.kit-test.migrate' }
    const only = (n: number) => ({
      name: `set n = ${n} if unset`,
      when: 'SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM t WHERE n <> 0)',
      statements: [`UPDATE t SET n = ${n}`],
    })
    const seed = { name: 'seed', statements: ["INSERT INTO t (k, at) VALUES ('a', 1)"] }
    const steps = postgresDdlOf([...MIGRATIONS, seed, only(5), only(6)])
    expect(steps[3]?.when).toBe(only(5).when)
    const sql = postgres(s.url, { max: 1, onnotice: () => {} })
    try {
      expect(await migratePostgres(sql, steps, options)).toEqual([
        'one',
        'two',
        'seed',
        only(5).name,
        only(6).name,
      ])
      expect([...(await sql`SELECT n::int AS n FROM t`)]).toEqual([{ n: 5 }])
    } finally {
      await sql.end({ timeout: 1 })
    }
  })

  it('fails fast with 503 naming the database while it cannot be reached, and closes twice safely', async () => {
    const url = 'postgres://user:secret@127.0.0.1:1/nowhere'
    const connection = openPostgres({
      url,
      store: 'kit-test',
      migrations: [],
      table: 'kit_schema_migrations',
      lockName: 'flotilla.kit-test.migrate',
      backoffMs: { first: 10, max: 50 },
    })
    await expect(connection.migrated).rejects.toThrow()
    const error = await connection.usable().then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' })
    const check = await connection.check().then(
      () => '',
      (e: Error) => e.message,
    )
    expect(check).toContain('kit-test database postgres://127.0.0.1:1/nowhere unavailable')
    expect(check).not.toContain('secret')
    await connection.close()
    await connection.close()
  })
})

describe('helpers', () => {
  it('tells PostgreSQL URLs apart and keeps NUL out of bound text', () => {
    expect([
      isPostgresUrl('postgres://h/d'),
      isPostgresUrl('postgresql://h/d'),
      isPostgresUrl('file:x.db'),
    ]).toEqual([true, true, false])
    expect(postgresText('a\u0000b')).toBe('a\uFFFDb')
    expect(postgresText(7)).toBe(7)
  })
})
