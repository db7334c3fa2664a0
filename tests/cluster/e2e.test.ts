/**
 * The e2e flows (tests/e2e) once more, on a real Redis Cluster: every app, the monolith's publisher and its
 * outbox relay, and the ops CLI started with `REDIS_CLUSTER=true` and the cluster's nodes as `REDIS_URL`. The
 * flows are imported, not copied: the harness starts every stack on the cluster once `useRedisCluster` is called.
 * (smoke.test.ts is left out: its hooks are file-wide, and every stack here becomes ready on the cluster anyway.)
 */
import { it } from 'bun:test'
import { clusterSkipReason, TEST_REDIS_CLUSTER_URL } from '@flotilla/streams/testing'
import { useRedisCluster } from '../e2e/harness/stack.ts'

if (!TEST_REDIS_CLUSTER_URL) {
  // Without a cluster: one visible skip naming the reason, never a pass.
  it.skip(`e2e flows on a Redis Cluster — ${clusterSkipReason}`, () => {})
} else {
  useRedisCluster(TEST_REDIS_CLUSTER_URL)
  await import('../e2e/flows.test.ts')
  await import('../e2e/password-change.test.ts')
  await import('../e2e/relay-crash.test.ts')
  await import('../e2e/bounce.test.ts')
  await import('../e2e/event-versions.test.ts')
}
