import { afterAll, beforeAll, expect, it } from 'bun:test'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET, startService } from '@flotilla/service-kit'
import { itWaitsForItsDatabase } from '@flotilla/service-kit/testing'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { sampleEvent } from '../../records/sample.ts'
import { auditService } from '../../service.ts'
import { createTestDatabase, type TestDatabase } from './fixtures/test-database.ts'

const redis = createRedisConnection(TEST_REDIS_URL, 'command')
const producer = createRedisConnection(TEST_REDIS_URL, 'producer')
const stream = uniqueStreamName('audit-pg-service')
const prefix = `test:audit-pg:${crypto.randomUUID().slice(0, 8)}:`
let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await cleanupStream(redis, stream)
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  producer.disconnect()
  await db?.cleanup()
})

it('runs on PostgreSQL from AUDIT_DB_URL alone (schema from the URL), recording and counting events', async () => {
  const running = await startService(auditService, {
    env: {
      REDIS_URL: TEST_REDIS_URL,
      EVENTS_STREAM: stream,
      AUDIT_REDIS_PREFIX: prefix,
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
      AUDIT_DB_URL: `${db.url}?search_path=${db.schema}`,
      LOG_LEVEL: 'silent',
    },
    port: false,
    telemetry: false,
  })
  try {
    expect(running.deps.store.kind).toBe('postgres')
    // The store migrates in the background: the service is ready once it has.
    await waitFor(
      async () => (await running.app.handle(new Request('http://localhost/ready'))).status === 200,
      { timeoutMs: 20_000, intervalMs: 100, message: '/ready 200' },
    )
    await createPublisher({ redis: producer, stream }).publishBatch(
      [1, 2, 3].map((n) => sampleEvent('pg-t', n)),
    )
    const token = await createServiceTokenSigner(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), 'ops').sign({
      audience: 'audit',
    })
    const get = (path: string) =>
      running.app.handle(
        new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } }),
      )
    const body = await waitFor(
      async () => {
        const res = await get('/v1/audit/stats/counts?groupBy=tenant,type')
        const json = (await res.json()) as { rows: Record<string, unknown>[] }
        return json.rows[0]?.count === 3 ? json : null
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'three events recorded' },
    )
    expect(body.rows).toEqual([{ tenant: 'pg-t', type: 'order.placed', count: 3 }])
    expect((await (await get('/v1/audit/verify?tenantId=pg-t')).json()).ok).toBe(true)
    expect((await running.app.handle(new Request('http://localhost/ready'))).status).toBe(200)
    // The tables are in the schema the URL named.
    const admin = await db.open()
    expect(await admin.chains()).toEqual(['pg-t'])
    await admin.close()
  } finally {
    await running.close()
  }
}, 60_000)

itWaitsForItsDatabase(auditService, {
  urlVariable: 'AUDIT_DB_URL',
  prefixVariable: 'AUDIT_REDIS_PREFIX',
  check: 'store',
})
