import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from './client.ts'

const dir = await mkdtemp(join(tmpdir(), 'notifications-connection-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

/** A new local database file holding one table `t` with these columns. */
const openWithTable = async (file: string, columns: string) => {
  const database = await openDatabase({ url: `file:${join(dir, file)}` })
  await database.client.execute(`CREATE TABLE t (${columns})`)
  return { database, client: database.client }
}

describe('a local database (one queued connection)', () => {
  it('applies its settings to every statement, however many run at once', async () => {
    const database = await openDatabase({ url: `file:${join(dir, 'settings.db')}` })
    const read = (pragma: string) =>
      Promise.all(Array.from({ length: 8 }, () => database.client.execute(`PRAGMA ${pragma}`)))
    const values = (results: Awaited<ReturnType<typeof read>>) => results.map((r) => Number(r.rows[0]?.[0]))
    expect(values(await read('synchronous'))).toEqual(Array(8).fill(2)) // FULL
    expect(values(await read('busy_timeout'))).toEqual(Array(8).fill(50))
    database.close()
  })

  it('queues statements behind an open transaction instead of refusing them, and sees its commit', async () => {
    const { database, client } = await openWithTable('queue.db', 'k TEXT PRIMARY KEY, n INTEGER NOT NULL')
    const tx = await client.transaction('write')
    await tx.execute("INSERT INTO t (k, n) VALUES ('a', 1)")
    const read = client.execute("SELECT n FROM t WHERE k = 'a'")
    const write = client.execute("UPDATE t SET n = n + 1 WHERE k = 'a'")
    await Bun.sleep(5) // both are waiting, not failing
    await tx.execute("UPDATE t SET n = n * 10 WHERE k = 'a'")
    await tx.commit()
    expect((await read).rows.map((r) => Number(r.n))).toEqual([10])
    expect((await write).rowsAffected).toBe(1)
    expect(Number((await client.execute("SELECT n FROM t WHERE k = 'a'")).rows[0]?.n)).toBe(11)
    database.close()
  })

  it('frees the connection after a rolled back or closed transaction and after a failed statement', async () => {
    const { database, client } = await openWithTable('release.db', 'k TEXT PRIMARY KEY')
    const rolledBack = await client.transaction('write')
    await rolledBack.execute("INSERT INTO t (k) VALUES ('gone')")
    await rolledBack.rollback()
    const closed = await client.transaction('write')
    await closed.execute("INSERT INTO t (k) VALUES ('gone too')")
    closed.close()
    await client.execute("INSERT INTO t (k) VALUES ('kept')")
    await expect(client.execute("INSERT INTO t (k) VALUES ('kept')")).rejects.toThrow(/UNIQUE/)
    const rows = await client.execute('SELECT k FROM t ORDER BY k')
    expect(rows.rows.map((r) => r.k)).toEqual(['kept'])
    database.close()
  })
})
