/**
 * `/ready` on Redis Cluster: the audit service, started by the runner with REDIS_CLUSTER=true on a private
 * three-master cluster (started here on free ports, so the shared cluster is never touched), answers 503 naming
 * the Redis Cluster while one master is down, and 200 again once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditService } from '@flotilla/audit/testing'
import { startService } from '@flotilla/service-kit'
import type { Handles } from '@flotilla/service-kit/testing'
import { clusterSkipReason, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { type PrivateCluster, startPrivateCluster } from '../fault/lib/redis-cluster.ts'

interface Ready {
  status: string
  checks: Record<string, { status: string; detail?: string }>
}

const onCluster = () => {
  const stream = uniqueStreamName('cluster-ready')
  const dir = mkdtempSync(join(tmpdir(), 'cluster-ready-'))
  let cluster: PrivateCluster
  let running: { readonly app: Handles; close(): Promise<void> }
  /** Polls `/ready` until it answers `status`; resolves to its body. */
  const readyWith = (status: 200 | 503, timeoutMs: number, what: string): Promise<Ready> =>
    waitFor(
      async () => {
        const res = await running.app.handle(new Request('http://audit.test/ready'))
        return res.status === status ? ((await res.json()) as Ready) : undefined
      },
      { timeoutMs, message: what },
    )

  beforeAll(async () => {
    cluster = await startPrivateCluster('none', stream)
    running = await startService(auditService, {
      env: {
        REDIS_URL: cluster.url,
        REDIS_CLUSTER: 'true',
        EVENTS_STREAM: stream,
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        AUDIT_REDIS_PREFIX: 'test:cluster-ready:',
      },
      port: false,
      telemetry: false,
    })
  }, 60_000)
  afterAll(async () => {
    await running?.close()
    await cluster?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is ready on a healthy cluster, saying so', async () => {
    const body = await readyWith(200, 20_000, '/ready 200 on the cluster')
    expect(body.checks.redis).toMatchObject({
      status: 'ok',
      detail: 'Redis Cluster: cluster_state:ok on 3 masters',
    })
  })

  it('answers 503 naming the Redis Cluster while a master is down, and 200 once it is back', async () => {
    // A master that is not the stream's: the consumer keeps its own slot, only the cluster is incomplete.
    const victim = cluster.nodes.find((node) => node !== cluster.owner) ?? cluster.owner
    await victim.kill()
    const body = await readyWith(503, 30_000, '/ready 503 with a master down')
    expect(body.status).toBe('unavailable')
    expect(body.checks.redis?.status).toBe('failed')
    expect(body.checks.redis?.detail).toMatch(/^Redis Cluster is not ready: .*master 127\.0\.0\.1:\d+/)

    await victim.start()
    const recovered = await readyWith(200, 60_000, '/ready 200 once the master is back')
    expect(recovered.checks.redis?.status).toBe('ok')
  }, 120_000)
}

// Without a cluster: one visible skip naming the reason, never a pass (CI always has one).
if (clusterSkipReason) it.skip(`/ready on a Redis Cluster — ${clusterSkipReason}`, () => {})
else describe('/ready on a Redis Cluster', onCluster)
