/**
 * A private Redis Cluster per scenario (tests/cluster): three masters from `redis-server`, each a `PrivateRedis`
 * killed and restarted for real. It stands in for the single broker: `kill`, `start`, `signal` and `command` act on
 * the master that serves the scenario's stream, so a scenario written for one Redis restarts that node here.
 */
import { hashSlot } from '@flotilla/streams'
import { testProcessEnv } from '@flotilla/streams/testing'
import { freePort, type Persistence, type PrivateRedis, startPrivateRedis } from './redis-server.ts'

export interface PrivateCluster extends PrivateRedis {
  /** Every node (masters, then replicas); `url` lists them comma-separated (REDIS_URL with REDIS_CLUSTER=true). */
  readonly nodes: readonly PrivateRedis[]
  /** The master serving `key`'s slot when the cluster was made (the one `kill`, `start`, `signal` and `command` act on). */
  readonly owner: PrivateRedis
}

const clusterInfoOk = async (node: PrivateRedis) =>
  (await node.command('CLUSTER', 'INFO').catch(() => '')).includes('cluster_state:ok')

const waitClusterOk = async (nodes: readonly PrivateRedis[], timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const states = await Promise.all(nodes.map(clusterInfoOk))
    if (states.every(Boolean)) return
    if (Date.now() > deadline) throw new Error('the private Redis Cluster did not reach cluster_state:ok')
    await Bun.sleep(100)
  }
}

/**
 * Starts three masters (and `replicas` replicas of each), joins them (`redis-cli --cluster create`), waits for
 * `cluster_state:ok`. With replicas, `start()` after `kill()` does not bring the master back: it waits until its
 * replica has been promoted and the cluster is ok again (a failover instead of a restart).
 */
export const startPrivateCluster = async (
  persistence: Persistence,
  key: string,
  replicas = 0,
): Promise<PrivateCluster> => {
  const nodes: PrivateRedis[] = []
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++)
      nodes.push(
        await startPrivateRedis(persistence, [
          '--cluster-enabled',
          'yes',
          // Beside the data: a restarted node comes back with its identity and slots.
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-port',
          String(freePort()),
          '--cluster-node-timeout',
          '2000',
        ]),
      )
    const create = Bun.spawn(
      [
        'redis-cli',
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { env: testProcessEnv(), stdout: 'pipe', stderr: 'pipe' },
    )
    if ((await create.exited) !== 0)
      throw new Error(`redis-cli --cluster create failed: ${await new Response(create.stderr).text()}`)
    await waitClusterOk(nodes)
    // Replicas report ok before they have synced: wait until each says its link to its master is up.
    for (const node of nodes) {
      const deadline = Date.now() + 30_000
      while (/role:slave/.test(await node.command('INFO', 'replication'))) {
        if ((await node.command('INFO', 'replication')).includes('master_link_status:up')) break
        if (Date.now() > deadline) throw new Error(`replica on ${node.port} did not sync`)
        await Bun.sleep(100)
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()))
    throw error
  }
  const slot = hashSlot(key)
  const owner = await ownerOf(nodes, slot)
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    owner,
    port: owner.port,
    pid: () => owner.pid(),
    signal: (signal) => owner.signal(signal),
    kill: () => owner.kill(),
    async start() {
      if (replicas > 0) {
        await failedOver(nodes, owner, slot)
        return
      }
      await owner.start()
      await waitClusterOk(nodes)
    },
    command: (...args) => owner.command(...args),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}

/** Waits until a node other than `gone` serves `slot` and says the cluster is ok (its replica promoted). */
const failedOver = async (
  nodes: readonly PrivateRedis[],
  gone: PrivateRedis,
  slot: number,
  timeoutMs = 60_000,
) => {
  const others = nodes.filter((n) => n !== gone)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const promoted = await ownerOf(others, slot).catch(() => undefined)
    if (promoted && (await clusterInfoOk(promoted))) return
    if (Date.now() > deadline) throw new Error(`no replica took over slot ${slot}`)
    await Bun.sleep(100)
  }
}

/** The master serving `slot`, from each node's own line of CLUSTER NODES (`… myself,master … 0-5460`). */
const ownerOf = async (nodes: readonly PrivateRedis[], slot: number): Promise<PrivateRedis> => {
  for (const node of nodes) {
    const text = await node.command('CLUSTER', 'NODES')
    const mine = text.split('\n').find((line) => line.includes('myself'))
    const ranges = (mine ?? '').trim().split(' ').slice(8)
    for (const range of ranges) {
      const [from, to = from] = range.split('-').map(Number)
      if (from !== undefined && slot >= from && slot <= (to as number)) return node
    }
  }
  throw new Error(`no node of the private cluster serves slot ${slot}`)
}
