/**
 * Redis Cluster helpers: the hash slot of a key, the node connection serving it, every master. A single Redis
 * is a cluster of one here, so callers need no branch of their own.
 */
import type { Redis } from 'ioredis'
import { isCluster, type RedisClient } from './connection.ts'

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster maps keys with. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
    table[i] = crc & 0xffff
  }
  return table
})()

const crc16 = (bytes: Uint8Array): number => {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number)) & 0xffff
  return crc
}

const encoder = new TextEncoder()

/**
 * The Redis Cluster hash slot of a key (0–16383): of its hash tag — the part between the first `{` and the
 * next `}`, when not empty — or else of the whole key. Keys with the same tag always share a slot.
 * @example hashSlot('{events}:dlq:audit') === hashSlot('events') // true
 */
export const hashSlot = (key: string): number => {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) return crc16(encoder.encode(key.slice(open + 1, close))) % 16384
  }
  return crc16(encoder.encode(key)) % 16384
}

/**
 * The connection to the node serving `key`: the client itself for one Redis, the cluster's own node connection
 * otherwise (for commands that must reach that very node and socket, such as CLIENT ID before a blocking read).
 * Undefined while the cluster does not know the slot's owner yet.
 */
export const nodeFor = (redis: RedisClient, key: string): Redis | undefined => {
  if (!isCluster(redis)) return redis
  const owner = redis.slots[hashSlot(key)]?.[0]
  if (!owner) return undefined
  return redis.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner)
}

/** Every master: the client itself for one Redis (SCAN and INFO go to each master of a cluster). */
export const mastersOf = (redis: RedisClient): Redis[] => (isCluster(redis) ? redis.nodes('master') : [redis])

/** One command of `pipelineBySlot`: its name, the one key it touches, its other arguments. */
export type KeyedCommand = readonly [command: string, key: string, ...args: (string | number | Buffer)[]]

/**
 * Sends commands as one pipeline per hash slot, in parallel (one pipeline for one Redis), and returns their
 * replies in order; the first error is thrown. On a cluster ioredis refuses a pipeline whose keys live on
 * different nodes, and a node may move a slot at any time, so a pipeline must keep to one slot to be safe.
 * Not atomic, as a pipeline never is: use MULTI or a script within one slot for that.
 */
export const pipelineBySlot = async (
  redis: RedisClient,
  commands: readonly KeyedCommand[],
): Promise<unknown[]> => {
  const groups = new Map<number, number[]>()
  commands.forEach(([, key], i) => {
    const slot = isCluster(redis) ? hashSlot(key) : 0
    const group = groups.get(slot)
    if (group) group.push(i)
    else groups.set(slot, [i])
  })
  const replies: unknown[] = new Array(commands.length)
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const results =
        (await redis.pipeline(indexes.map((i) => [...(commands[i] as KeyedCommand)])).exec()) ?? []
      indexes.forEach((commandIndex, j) => {
        const [error, reply] = results[j] ?? [new Error('no reply'), null]
        if (error) throw error
        replies[commandIndex] = reply
      })
    }),
  )
  return replies
}

/**
 * The readiness of Redis: PING for one Redis. For a cluster, every master that owns slots must answer
 * CLUSTER INFO with `cluster_state:ok`: a master down (or a cluster that says it is down) makes the app not ready
 * until the cluster recovers, even though the other masters, and a PING sent to one of them, still answer.
 * Resolves to a short detail; throws naming every master that is unreachable or not ok.
 */
export const checkRedis = async (redis: RedisClient): Promise<string | undefined> => {
  if (!isCluster(redis)) {
    await redis.ping()
    return undefined
  }
  if (redis.status !== 'ready') throw new Error(`Redis Cluster connection is ${redis.status}`)
  const owners = new Set<string>()
  for (const nodes of redis.slots) if (nodes?.[0]) owners.add(nodes[0])
  if (owners.size === 0) throw new Error('Redis Cluster: no master owns a slot yet')
  const connected = new Map(redis.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]))
  const problems: string[] = []
  await Promise.all(
    [...owners].map(async (owner) => {
      const node = connected.get(owner)
      if (!node) {
        problems.push(`master ${owner} unreachable`)
        return
      }
      try {
        const state = /cluster_state:(\w+)/.exec(String(await node.call('CLUSTER', 'INFO')))?.[1]
        if (state !== 'ok') problems.push(`master ${owner} reports cluster_state:${state ?? 'unknown'}`)
      } catch (error) {
        problems.push(`master ${owner} unreachable (${(error as Error).message})`)
      }
    }),
  )
  if (problems.length > 0) throw new Error(`Redis Cluster is not ready: ${problems.sort().join('; ')}`)
  return `Redis Cluster: cluster_state:ok on ${owners.size} masters`
}
