/**
 * Removes consumers that are gone: every process has a unique name (docs/pitfalls.md), so crashed ones would pile up
 * in the group. Only consumers idle past a long threshold and owning nothing pending are deleted, and the
 * pending check and DELCONSUMER run in one script (DELCONSUMER would drop pending entries).
 */
import { DELETE_IDLE_CONSUMER, runScript } from '../scripts.ts'
import { pairsToRecord } from './replies.ts'
import type { Runtime } from './runtime.ts'

/** Deletes idle, empty consumers of the group other than this one; resolves to their names. */
export const pruneIdleConsumers = async (rt: Runtime, idleMs: number): Promise<string[]> => {
  const reply = await rt.command().xinfo('CONSUMERS', rt.stream, rt.group)
  const stale = (Array.isArray(reply) ? reply : [])
    .map(pairsToRecord)
    .filter((c) => c.name !== rt.name && Number(c.pending) === 0 && Number(c.idle) >= idleMs)
    .map((c) => String(c.name))
  const deleted: string[] = []
  for (const consumer of stale) {
    const result = await runScript(rt.command(), DELETE_IDLE_CONSUMER, [rt.stream], [rt.group, consumer])
    if (result === 1) deleted.push(consumer)
  }
  if (deleted.length > 0)
    rt.logger.info({ stream: rt.stream, group: rt.group, consumers: deleted }, 'removed idle consumers')
  return deleted
}
