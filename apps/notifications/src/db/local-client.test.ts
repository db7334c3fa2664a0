import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, createClient, type InStatement, LibsqlBatchError, LibsqlError } from '@libsql/client'
import Database from 'libsql'
import { createLocalClient } from './local-client.ts'

const dir = await mkdtemp(join(tmpdir(), 'notifications-local-client-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

const TABLE = 'CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, x REAL, b BLOB)'
let files = 0
/** A new file holding table `t`, through the client under test. */
const fresh = async (): Promise<{ client: Client; path: string }> => {
  const path = join(dir, `db-${files++}.db`)
  const client = createLocalClient(path)
  await client.execute(TABLE)
  return { client, path }
}

/** What a result set shows a caller: columns, rows by index and by name, counts. */
const shown = (r: Awaited<ReturnType<Client['execute']>>) => ({
  columns: r.columns,
  columnTypes: r.columnTypes,
  byIndex: r.rows.map((row) => Array.from({ length: row.length }, (_, i) => row[i])),
  byName: r.rows.map((row) => ({ ...row })),
  rowsAffected: r.rowsAffected,
  lastInsertRowid: r.lastInsertRowid,
  json: JSON.stringify(r),
})

describe('the local client (statements prepared once per SQL text)', () => {
  it('answers as @libsql/client does, for reads, writes, RETURNING and repeated statements', async () => {
    const ours = await fresh()
    const theirs = createClient({ url: `file:${join(dir, 'reference.db')}` })
    await theirs.execute(TABLE)
    const statements: InStatement[] = [
      {
        sql: 'INSERT INTO t (k, n, x, b) VALUES (?, ?, ?, ?)',
        args: ['a', 1, 1.5, new Uint8Array([1, 2]).buffer],
      },
      { sql: 'INSERT INTO t (k, n, x, b) VALUES (?, ?, ?, ?)', args: ['b', true, null, null] },
      {
        sql: 'INSERT INTO t (k, n) VALUES (:k, :n) RETURNING k, n AS count, n',
        args: { ':k': 'c', ':n': 3 },
      },
      'SELECT k, n, x, b, k AS k FROM t ORDER BY k',
      { sql: 'UPDATE t SET n = n + 1 WHERE k IN (?, ?)', args: ['a', 'b'] },
      'SELECT k, n, x, b, k AS k FROM t ORDER BY k',
      { sql: 'SELECT count(*) AS c FROM t WHERE n > ?', args: [1] },
    ]
    for (const stmt of statements)
      expect(shown(await ours.client.execute(stmt))).toEqual(shown(await theirs.execute(stmt)))
    ours.client.close()
    theirs.close()
  })

  it('reports SQLite errors as LibsqlError with their codes, and runs the failed statement again', async () => {
    const { client } = await fresh()
    const insert = { sql: 'INSERT INTO t (k) VALUES (?)', args: ['a'] }
    await client.execute(insert)
    const error = await client.execute(insert).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LibsqlError)
    expect(error).toMatchObject({ code: 'SQLITE_CONSTRAINT', extendedCode: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
    expect((await client.execute({ ...insert, args: ['b'] })).rowsAffected).toBe(1)
    await expect(client.execute({ sql: 'SELECT ?', args: [2n ** 60n] })).rejects.toBeInstanceOf(RangeError)
    client.close()
  })

  it('commits a batch whole or not at all, naming the statement that failed', async () => {
    const { client } = await fresh()
    const error = await client
      .batch(["INSERT INTO t (k) VALUES ('a')", "INSERT INTO t (k) VALUES ('a')"], 'write')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LibsqlBatchError)
    expect((error as LibsqlBatchError).statementIndex).toBe(1)
    expect((await client.execute('SELECT count(*) AS c FROM t')).rows[0]?.c).toBe(0)
    const [, read] = await client.batch(["INSERT INTO t (k) VALUES ('a')", 'SELECT k FROM t'], 'write')
    expect(read?.rows.map((r) => r.k)).toEqual(['a'])
    client.close()
  })

  it('holds its one connection for an open transaction, and rolls back what a closed one did not commit', async () => {
    const { client } = await fresh()
    const tx = await client.transaction('write')
    await tx.execute("INSERT INTO t (k) VALUES ('a')")
    await expect(client.execute('SELECT 1')).rejects.toMatchObject({ code: 'TRANSACTION_ACTIVE' })
    tx.close()
    expect(tx.closed).toBe(true)
    await expect(tx.execute('SELECT 1')).rejects.toMatchObject({ code: 'TRANSACTION_CLOSED' })
    const again = await client.transaction('write')
    await again.batch(["INSERT INTO t (k) VALUES ('b')"])
    await again.commit()
    expect((await client.execute('SELECT k FROM t')).rows.map((r) => r.k)).toEqual(['b'])
    client.close()
  })

  it('rolls back a transaction whose COMMIT failed, so the next call does not run inside it', async () => {
    const { client, path } = await fresh()
    await client.executeMultiple(`PRAGMA foreign_keys = ON;
      CREATE TABLE child (k TEXT REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED)`)
    const tx = await client.transaction('write')
    await tx.execute("INSERT INTO child (k) VALUES ('missing')")
    await expect(tx.commit()).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' })
    await client.execute("INSERT INTO t (k) VALUES ('a')")
    const other = new Database(path)
    expect(other.prepare('SELECT k FROM t').all()).toEqual([{ k: 'a' }])
    expect(other.prepare('SELECT count(*) AS n FROM child').get()).toMatchObject({ n: 0 })
    other.close()
    client.close()
  })

  it('keeps no snapshot between calls: a statement run again sees what another connection committed meanwhile', async () => {
    const { client, path } = await fresh()
    await client.execute('PRAGMA journal_mode = WAL')
    const other = new Database(path)
    const count = async () => Number((await client.execute('SELECT count(*) AS c FROM t')).rows[0]?.c)
    expect(await count()).toBe(0)
    other.exec("INSERT INTO t (k) VALUES ('a')")
    expect(await count()).toBe(1)
    // Nothing of this connection holds a read lock: the other can checkpoint the whole log.
    expect(other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()).toMatchObject({ busy: 0 })
    other.close()
    client.close()
  })
})
