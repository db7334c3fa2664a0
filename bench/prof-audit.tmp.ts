import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuditConsumer } from '@flotilla/audit'
import { createLibsqlStore } from '@flotilla/audit/testing'
import Redis from 'ioredis'
import { benchStream } from './lib/fixtures.ts'
import { timeConsumer } from './lib/harness.ts'
import { prefill } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
const N = 20000
const redis = new Redis(REDIS_URL)
const stream = benchStream('auditprof')
const dir = mkdtempSync(join(tmpdir(), 'prof-audit-'))
await prefill(redis, stream, N)
for (let r = 0; r < Number(process.env.ROUNDS ?? 4); r++) {
  const store = await createLibsqlStore({ url: `file:${join(dir, `db-${r}.db`)}` })
  let appended = 0
  await redis.xgroup('CREATE', stream, 'audit', '0')
  const consumer = createAuditConsumer({ redisUrl: REDIS_URL, stream, store, blockMs: 200, batchSize: Number(process.env.BATCH ?? 200), onAppended: (n) => { appended += n } })
  const s = await timeConsumer(consumer, () => appended >= N)
  console.log('round', r, Math.round(N / s), 'ev/s')
  await store.close()
  await redis.xgroup('DESTROY', stream, 'audit')
}
await redis.del(stream)
process.exit(0)
