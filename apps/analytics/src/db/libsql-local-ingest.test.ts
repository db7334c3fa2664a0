import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import { openDatabase } from './client.ts'
import { openLocalIngest } from './libsql-local-ingest.ts'

describe('the local ingest connection', () => {
  let dir: string
  let path: string
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'analytics-local-ingest-'))
    path = join(dir, 'analytics.db')
    // Migrated (and in WAL mode) as the database opens it.
    await (await openDatabase({ url: `file:${path}` })).close()
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const processedIds = async () => {
    const client = createClient({ url: `file:${path}` })
    try {
      return (await client.execute('SELECT id FROM processed_events ORDER BY id')).rows.map((r) => r.id)
    } finally {
      client.close()
    }
  }

  it('commits transactions that other connections read, counting each id once', async () => {
    const local = openLocalIngest(path, 1_000)
    try {
      const fresh = await local.ingest((tx) => tx.recordIds(['a', 'b'], 1))
      expect(fresh).toEqual(['a', 'b'])
      expect(await local.ingest((tx) => tx.recordIds(['b', 'c'], 2))).toEqual(['c'])
      expect(await processedIds()).toEqual(['a', 'b', 'c'])
    } finally {
      local.close()
    }
  })

  it('rolls the whole transaction back when its body throws', async () => {
    const local = openLocalIngest(path, 1_000)
    try {
      const failed = local.ingest(async (tx) => {
        await tx.recordIds(['a'], 1)
        await tx.markDirty([['hour', 0]])
        throw new Error('disk full')
      })
      await expect(failed).rejects.toThrow('disk full')
      expect(await processedIds()).toEqual([])
      // The connection is usable again.
      expect(await local.ingest((tx) => tx.recordIds(['a'], 1))).toEqual(['a'])
    } finally {
      local.close()
    }
  })

  it('closes after a transaction in flight, and a second close is harmless', async () => {
    const local = openLocalIngest(path, 1_000)
    let proceed = () => {}
    const gate = new Promise<void>((resolve) => {
      proceed = resolve
    })
    const running = local.ingest(async (tx) => {
      await gate
      return tx.recordIds(['late'], 1)
    })
    local.close()
    local.close()
    proceed()
    expect(await running).toEqual(['late'])
    expect(await processedIds()).toEqual(['late'])
    await expect(local.ingest((tx) => tx.recordIds(['after'], 1))).rejects.toThrow('closed')
  })
})
