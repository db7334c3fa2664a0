import { afterAll, beforeAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sampleInput } from '../../records/sample.ts'
import { verifyChain } from '../../verify/service.ts'
import { createTestDatabase, type TestDatabase } from './fixtures/test-database.ts'

let db: TestDatabase
let dir: string
beforeAll(async () => {
  db = await createTestDatabase()
  dir = await mkdtemp(join(tmpdir(), 'audit-pg-race-'))
})
afterAll(async () => {
  await db?.cleanup()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** Reads a child's stdout line by line. */
const lines = (stream: ReadableStream<Uint8Array>) => {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return async (): Promise<string | null> => {
    for (;;) {
      const end = buffer.indexOf('\n')
      if (end >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 1)
        return line
      }
      const { value, done } = await reader.read()
      if (done) return buffer.length > 0 ? buffer : null
      buffer += decoder.decode(value, { stream: true })
    }
  }
}

it('keeps one gapless, verifying chain per tenant when four processes append the same events at once', async () => {
  const inputs = Array.from({ length: 3000 }, (_, i) =>
    sampleInput({ tenantId: i % 3 === 0 ? null : `r-${i % 2}` }),
  )
  const inputsFile = join(dir, 'inputs.json')
  await Bun.write(inputsFile, JSON.stringify(inputs))
  // Migrated once up front, so the processes race on appends only (migrations have their own test).
  const store = await db.open()
  try {
    const children = [
      { batchSize: 50, reverse: false },
      { batchSize: 73, reverse: true },
      { batchSize: 200, reverse: false },
      { batchSize: 31, reverse: true },
    ].map((o) => {
      const child = Bun.spawn(
        [
          'bun',
          join(import.meta.dir, 'fixtures', 'append-process.ts'),
          JSON.stringify({ url: db.url, schema: db.schema, inputsFile, ...o }),
        ],
        { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
      )
      return { child, next: lines(child.stdout) }
    })
    // Start together: wait until every process is connected, then release them all.
    for (const { next } of children) expect(await next()).toBe('ready')
    for (const { child } of children) {
      child.stdin.write('go\n')
      await child.stdin.end()
    }
    const appended = await Promise.all(
      children.map(async ({ child, next }) => {
        const out = await next()
        expect(await child.exited).toBe(0)
        return (JSON.parse(out ?? '{}') as { appended: number }).appended
      }),
    )
    expect(appended.reduce((a, b) => a + b, 0)).toBe(3000)
    // They really raced: more than one process got batches in.
    expect(appended.filter((n) => n > 0).length).toBeGreaterThan(1)

    const [total] = await store.sql<{ n: number; d: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM audit_records`
    expect(total).toEqual({ n: 3000, d: 3000 })
    expect(await store.chains()).toEqual(['global', 'r-0', 'r-1'])
    for (const chain of await store.chains()) {
      const result = await verifyChain({ store }, chain)
      expect(result.ok).toBe(true)
      const [row] = await store.sql<{ n: number; lo: number; hi: number }[]>`
        SELECT count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi FROM audit_records WHERE chain = ${chain}`
      expect(row?.lo).toBe(1)
      expect(row?.n).toBe(row?.hi as number)
      expect(result.checked).toBe(row?.n as number)
    }
    console.log(`cross-process race on PostgreSQL: appended ${appended.join(' + ')} records`)
  } finally {
    await store.close()
  }
}, 120_000)
