import { afterAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import { sampleInput } from '../../records/sample.ts'
import { verifyChain } from '../../verify/service.ts'
import { createLibsqlStore } from './store.ts'

const dir = await mkdtemp(join(tmpdir(), 'audit-race-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

it('keeps one gapless chain per tenant when three processes append the same events at once', async () => {
  const dbUrl = `file:${join(dir, 'audit.db')}`
  const inputs = Array.from({ length: 3000 }, (_, i) =>
    sampleInput({ tenantId: i % 3 === 0 ? null : `r-${i % 2}` }),
  )
  const inputsFile = join(dir, 'inputs.json')
  await Bun.write(inputsFile, JSON.stringify(inputs))
  // Create the schema once before the race (each process would otherwise run the DDL at the same time too).
  await (await createLibsqlStore({ url: dbUrl })).close()

  const startAt = Date.now() + 3000
  const runs = [
    { batchSize: 50, reverse: false },
    { batchSize: 73, reverse: true },
    { batchSize: 200, reverse: false },
  ].map(async (o) => {
    const child = Bun.spawn(
      bunCommand(
        join(import.meta.dir, 'fixtures', 'append-process.ts'),
        JSON.stringify({ dbUrl, inputsFile, startAt, ...o }),
      ),
      { env: testProcessEnv(), stdout: 'pipe', stderr: 'inherit' },
    )
    const out = await new Response(child.stdout).text()
    expect(await child.exited).toBe(0)
    return (JSON.parse(out) as { appended: number }).appended
  })
  const appended = await Promise.all(runs)
  expect(appended.reduce((a, b) => a + b, 0)).toBe(3000)
  // They really raced: more than one process got batches in.
  expect(appended.filter((n) => n > 0).length).toBeGreaterThan(1)

  const store = await createLibsqlStore({ url: dbUrl })
  try {
    const total = await store.client.execute(
      'SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM audit_records',
    )
    expect(total.rows[0]).toMatchObject({ n: 3000, d: 3000 })
    for (const chain of await store.chains()) {
      const result = await verifyChain({ store }, chain)
      expect(result.ok).toBe(true)
      const { rows } = await store.client.execute({
        sql: 'SELECT count(*) AS n, max(seq) AS hi FROM audit_records WHERE chain = ?',
        args: [chain],
      })
      expect(rows[0]?.n).toBe(rows[0]?.hi as number)
      expect(result.checked).toBe(rows[0]?.n as number)
    }
    console.log(`cross-process race: appended ${appended.join(' + ')} records`)
  } finally {
    await store.close()
  }
}, 120_000)
