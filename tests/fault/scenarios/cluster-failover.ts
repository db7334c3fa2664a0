/**
 * Redis Cluster failover (tests/cluster, on a private cluster with one replica per master): the stream's master
 * SIGKILLed mid-stream and never brought back; its replica is promoted and the consumers go on there. Replication
 * is asynchronous, so what the master acknowledged and had not yet sent to its replica is gone: counted as lost by
 * Redis, stated, not hidden. Everything the promoted replica holds must be processed.
 */
import { createWorld, goodEvent } from '../lib/harness.ts'
import type { PrivateCluster } from '../lib/redis-cluster.ts'
import { missing, rowOf, type SuiteEnv, settle } from './common.ts'
import { publishThrough, streamEventIds } from './redis-faults.ts'

export const clusterFailover = async (env: SuiteEnv, total = 10_000) => {
  const world = await createWorld(env.ledger, env.ledgerUrl, { persistence: 'none', replicas: 1 })
  try {
    const { supervisor, tracker } = world
    // useClusterBrokers() is on: the broker is a private cluster.
    const broker = world.broker as PrivateCluster
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    let killedAt = 0
    let promotedAt = 0
    let failedDuringFailover = 0
    await publishThrough(world, total, 0.4, async () => {
      // A burst just before the kill: acknowledged by the master, part of it not yet on the replica.
      await tracker.publish(Array.from({ length: 1000 }, goodEvent))
      killedAt = Date.now()
      await broker.kill()
      const before = tracker.unknown
      // Publishing on into the failover: those attempts fail (CLUSTERDOWN, connection closed) and are retried.
      await tracker.publish(Array.from({ length: 50 }, goodEvent))
      await broker.failedOver()
      promotedAt = Date.now()
      failedDuringFailover = tracker.unknown - before
    })
    await tracker.retryFailed()
    const inStream = await streamEventIds(world)
    const acked = [...tracker.acked.keys()]
    const held = acked.filter((id) => inStream.has(id))
    const tally = await settle(world, held.length, 90_000)
    const lost = missing(held, tally.applied)
    // Acknowledged, not on the promoted replica, and never processed before the kill: Redis' loss.
    const lostByRedis = acked.filter((id) => !inStream.has(id) && !tally.applied.has(id))
    const statuses = await world.ledger.statuses()
    const row = rowOf(world, tally, {
      scenario: 'Redis Cluster: the stream’s master SIGKILLed mid-stream, its replica promoted',
      lost: lost.length,
      lostByRedis: lostByRedis.length,
      recoveryMs: tally.settledAt - promotedAt,
      notes: `3 masters with one replica each; SIGKILL of the stream's master at 40% of ${total} events right after a burst of 1,000, never restarted; its replica was promoted ${promotedAt - killedAt} ms later (cluster-node-timeout 2 s); ${failedDuringFailover} publishes failed during the failover and every failed attempt (${tracker.unknown}) was retried with the same event id (${tracker.unpublished} never got through); ${statuses.filter((s) => s.state === 'running').length} consumers went on against the new master (group recreations ${statuses.reduce((n, s) => n + s.groupRecreations, 0)}); every event the promoted replica held was processed; ${lostByRedis.length} acknowledged events had not reached the replica before the kill and were not yet processed (asynchronous replication: Redis' loss).`,
    })
    return { row, lost, lostByRedis, unpublished: tracker.unpublished, failoverMs: promotedAt - killedAt }
  } finally {
    await world.close()
  }
}
