/** Probe: the append's cost per 200-row batch in-thread vs on the worker, per block of 100 batches (JIT warm-up visible). */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibsqlStore, recordInputOf } from '@flotilla/audit/testing'
import { benchEvent } from '../lib/fixtures.ts'

const dir = mkdtempSync(join(tmpdir(), 'sw-cost-'))
const at = new Date()
const N = 100_000
const inputs = Array.from({ length: N }, (_, i) => recordInputOf(benchEvent(i), at))
for (const onWorker of [false, true, false, true]) {
  const store = await createLibsqlStore({
    url: `file:${join(dir, `${onWorker}-${Math.random()}.db`)}`,
    appendOnWorker: onWorker,
  })
  const line: string[] = []
  for (let block = 0; block < N; block += 20_000) {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = block; i < block + 20_000; i += 200) await store.append(inputs.slice(i, i + 200))
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    line.push(`${(ms / 100).toFixed(2)}ms/${((cpu.user + cpu.system) / 1000 / 100).toFixed(2)}cpu`)
  }
  console.log(`worker=${onWorker}: per batch, blocks of 100: ${line.join('  ')}`)
  await store.close()
}
