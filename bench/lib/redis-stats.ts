/** Redis-side time per command (INFO commandstats deltas): where a contender spends the server's one thread. */
import type Redis from 'ioredis'

export type CommandStats = Map<string, { calls: number; usec: number }>

export const commandStats = async (redis: Redis): Promise<CommandStats> => {
  const text = (await redis.info('commandstats')) as string
  const stats: CommandStats = new Map()
  for (const m of text.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g))
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) })
  return stats
}

/** Server microseconds spent between two snapshots (all clients: other traffic on a shared Redis adds noise). */
export const serverMicros = (
  before: CommandStats,
  after: CommandStats,
  commands?: readonly string[],
): number => {
  let total = 0
  for (const [name, { usec }] of after) {
    if (commands && !commands.includes(name)) continue
    if (name === 'info') continue
    total += usec - (before.get(name)?.usec ?? 0)
  }
  return total
}

/** Per-command deltas, as `xreadgroup 501 calls, 141 µs/call` lines. */
export const describeDelta = (before: CommandStats, after: CommandStats): string[] =>
  [...after]
    .map(([name, s]) => ({
      name,
      calls: s.calls - (before.get(name)?.calls ?? 0),
      usec: s.usec - (before.get(name)?.usec ?? 0),
    }))
    .filter((d) => d.calls > 0 && d.name !== 'info')
    .sort((a, b) => b.usec - a.usec)
    .map((d) => `${d.name} ${d.calls} calls, ${(d.usec / d.calls).toFixed(1)} µs/call`)
