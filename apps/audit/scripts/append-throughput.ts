/**
 * A quick measure of append throughput, libSQL (local file) against PostgreSQL (a scratch schema in the test
 * database), for docs/scaling.md. Not a benchmark framework: one run, printed with the machine's load average.
 *
 *   bun apps/audit/scripts/append-throughput.ts [records=20000] [batch=200]
 *
 * PostgreSQL: AUDIT_TEST_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RecordInput } from '../src/records/model.ts'
import { sampleInput } from '../src/records/sample.ts'
import { createLibsqlStore } from '../src/store/libsql/store.ts'
import { createTestDatabase } from '../src/store/postgres/fixtures/test-database.ts'
import type { AuditStore } from '../src/store/types.ts'

const RECORDS = Number(process.argv[2] ?? 20_000)
const BATCH = Number(process.argv[3] ?? 200)
const TENANTS = 10

const inputsFor = (writer: number, n: number): RecordInput[] =>
  Array.from({ length: n }, (_, i) => sampleInput({ tenantId: `tenant-${(i + writer) % TENANTS}` }))

/** Each writer appends its own events in batches; returns records per second over the whole run. */
const run = async (writers: AuditStore[]): Promise<number> => {
  const per = Math.floor(RECORDS / writers.length)
  const work = writers.map((_, w) => inputsFor(w, per))
  const started = performance.now()
  await Promise.all(
    writers.map(async (store, w) => {
      const inputs = work[w] as RecordInput[]
      for (let i = 0; i < inputs.length; i += BATCH) await store.append(inputs.slice(i, i + BATCH))
    }),
  )
  return (per * writers.length) / ((performance.now() - started) / 1000)
}

const results: string[] = []
const report = (label: string, perSecond: number) => {
  const line = `${label.padEnd(44)} ${Math.round(perSecond).toLocaleString('en').padStart(8)} records/s`
  results.push(line)
  console.log(line)
}

const dir = await mkdtemp(join(tmpdir(), 'audit-throughput-'))
const db = await createTestDatabase()
try {
  console.log(`${RECORDS} records, batches of ${BATCH}, ${TENANTS} tenants; ${cpus().length} cores`)
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  for (const writers of [1, 4]) {
    const url = `file:${join(dir, `audit-${writers}.db`)}`
    const libsql = await Promise.all(Array.from({ length: writers }, () => createLibsqlStore({ url })))
    report(`libSQL file, ${writers} writer${writers > 1 ? 's' : ''} (one process)`, await run(libsql))
    await Promise.all(libsql.map((s) => s.close()))

    // The 4-writer run appends to the chains the 1-writer run left (a table cannot be emptied: append-only).
    const pg = await Promise.all(Array.from({ length: writers }, () => db.open({ max: 2 })))
    report(`PostgreSQL, ${writers} writer${writers > 1 ? 's' : ''} (one pool each)`, await run(pg))
    await Promise.all(pg.map((s) => s.close()))
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  await db.cleanup()
  await rm(dir, { recursive: true, force: true })
}
