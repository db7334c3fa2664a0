import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import { Mutex, queueClient } from './queue.ts'

const dir = await mkdtemp(join(tmpdir(), 'kit-libsql-queue-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('Mutex', () => {
  it('hands the lock over in call order, one holder at a time', async () => {
    const mutex = new Mutex()
    const order: string[] = []
    let holders = 0
    let most = 0
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) =>
        mutex.run(async () => {
          holders++
          most = Math.max(most, holders)
          order.push(name)
          await Bun.sleep(1)
          holders--
        }),
      ),
    )
    expect(order).toEqual(['a', 'b', 'c', 'd'])
    expect(most).toBe(1)
    expect(mutex.pending).toBe(0)
  })

  it('passes the lock on when the holder throws, and releasing twice frees it once', async () => {
    const mutex = new Mutex()
    await expect(mutex.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    const release = await mutex.lock()
    const next = mutex.lock()
    release()
    release()
    const releaseNext = await next
    expect(mutex.pending).toBe(1)
    releaseNext()
    expect(mutex.pending).toBe(0)
  })
})

describe('queueClient', () => {
  it('lets reads through with reads: direct while a write transaction holds the lock, and queues writes', async () => {
    const url = `file:${join(dir, 'direct.db')}`
    const client = queueClient(createClient({ url }), new Mutex(), { reads: 'direct' })
    await client.execute('PRAGMA journal_mode = WAL')
    await client.execute('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL)')
    await client.execute("INSERT INTO t (k, n) VALUES ('a', 1)")
    const tx = await client.transaction('write')
    await tx.execute("UPDATE t SET n = 2 WHERE k = 'a'")
    // A WAL reader sees the last commit at once; the write waits for the transaction instead of failing.
    expect((await client.execute("SELECT n FROM t WHERE k = 'a'")).rows.map((r) => Number(r.n))).toEqual([1])
    let written = false
    const write = client.execute("UPDATE t SET n = n + 10 WHERE k = 'a'").then(() => {
      written = true
    })
    await Bun.sleep(5)
    expect(written).toBe(false)
    await tx.commit()
    await write
    expect((await client.execute("SELECT n FROM t WHERE k = 'a'")).rows.map((r) => Number(r.n))).toEqual([12])
    client.close()
  })

  it('queues reads too with reads: queue', async () => {
    const url = `file:${join(dir, 'queue.db')}`
    const mutex = new Mutex()
    const client = queueClient(createClient({ url, concurrency: 1 }), mutex, { reads: 'queue' })
    await client.execute('CREATE TABLE t (k TEXT PRIMARY KEY)')
    const tx = await client.transaction('write')
    let read = false
    const pending = client.execute('SELECT k FROM t').then(() => {
      read = true
    })
    await Bun.sleep(5)
    expect(read).toBe(false)
    expect(mutex.pending).toBe(2)
    await tx.rollback()
    await pending
    expect(mutex.pending).toBe(0)
    client.close()
  })
})
