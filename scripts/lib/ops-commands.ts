/** The ops CLI's commands, over the same library calls the apps use (readGroupStats, createDeadLetters, trimStream). */
import { CONSUMER_GROUPS, MAX_SERVICE_TOKEN_TTL_SECONDS } from '@flotilla/contracts'
import type { createRedisConnection } from '@flotilla/streams'
import { createDeadLetters, type DeadLetter, readGroupStats, trimStream } from '@flotilla/streams'
import { bold, confirm, dim, formatDuration, green, progressBar, red, table, yellow } from './term.ts'

type Redis = ReturnType<typeof createRedisConnection>

export interface OpsContext {
  readonly redis: Redis
  readonly stream: string
  /** Print JSON instead of tables. */
  readonly json: boolean
  /** Skip confirmations. */
  readonly yes: boolean
}

/** A command refused or failed in a way the operator should read (exit code 1, no stack trace). */
export class OpsError extends Error {}

/** `token <app>` without `--ttl`: the longest lifetime every app's verifier accepts. */
export const DEFAULT_TOKEN_TTL_SECONDS = MAX_SERVICE_TOKEN_TTL_SECONDS

/** Reads `--ttl` for `token <app>`: whole seconds, 1 up to the verifiers' cap; the cap when absent. */
export const parseTokenTtl = (value: string | undefined): number => {
  if (value === undefined) return DEFAULT_TOKEN_TTL_SECONDS
  const ttl = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(ttl) || ttl < 1)
    throw new OpsError(`--ttl must be a whole number of seconds, 1..${MAX_SERVICE_TOKEN_TTL_SECONDS}`)
  if (ttl > MAX_SERVICE_TOKEN_TTL_SECONDS)
    throw new OpsError(
      `--ttl ${ttl} is longer than the ${MAX_SERVICE_TOKEN_TTL_SECONDS} s every app accepts for a service token ` +
        `(they would refuse it with 401); give --ttl ${MAX_SERVICE_TOKEN_TTL_SECONDS} or less`,
    )
  return ttl
}

const out = (text: string) => console.log(text)

/** Milliseconds since the time encoded in a stream id (`<ms>-<seq>`). */
const ageOf = (id: string): number | undefined => {
  const ms = Number(id.split('-')[0])
  return Number.isFinite(ms) && ms > 0 ? Date.now() - ms : undefined
}

const pairs = (reply: unknown): Record<string, unknown> => {
  const record: Record<string, unknown> = {}
  if (Array.isArray(reply))
    for (let i = 0; i + 1 < reply.length; i += 2) record[String(reply[i])] = reply[i + 1]
  return record
}

/** The dead-letter code of an event a group's handler cannot handle at its version (service-kit's handler map). */
const UNSUPPORTED_VERSION = 'UNSUPPORTED_VERSION'

/** How many of a group's dead letters carry `code`, reading the dead-letter stream a page at a time. */
const deadLettersWithCode = async (redis: Redis, stream: string, group: string, code: string) => {
  const dlq = createDeadLetters({ redis, stream, group })
  let count = 0
  let cursor: string | undefined
  do {
    const page = await dlq.list({ limit: 1000, order: 'oldest', ...(cursor ? { cursor } : {}) })
    count += page.items.filter((d) => d.error.code === code).length
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return count
}

/**
 * `status`: the stream, each group (lag, pending, consumers, dead letters, and how many of those are events at a
 * version the group cannot handle yet: replay them once it is upgraded), and each consumer.
 */
export const status = async ({ redis, stream, json }: OpsContext): Promise<void> => {
  const info = pairs(await redis.xinfo('STREAM', stream).catch(() => null))
  const groups = await Promise.all(
    (await readGroupStats({ redis, stream })).map(async (g) => ({
      ...g,
      unsupportedVersion:
        g.deadLetters > 0 ? await deadLettersWithCode(redis, stream, g.group, UNSUPPORTED_VERSION) : 0,
    })),
  )
  const consumers: { group: string; name: string; pending: number; idleMs: number }[] = []
  for (const g of groups) {
    const reply = (await redis.xinfo('CONSUMERS', stream, g.group)) as unknown[]
    for (const c of reply.map(pairs))
      consumers.push({
        group: g.group,
        name: String(c.name),
        pending: Number(c.pending),
        idleMs: Number(c.idle),
      })
  }
  const first = Array.isArray(info['first-entry']) ? String(info['first-entry'][0]) : undefined
  const summary = {
    stream,
    exists: Object.keys(info).length > 0,
    length: Number(info.length ?? 0),
    firstId: first ?? null,
    lastId: info['last-generated-id'] ? String(info['last-generated-id']) : null,
  }
  if (json) {
    out(JSON.stringify({ ...summary, groups, consumers }, null, 2))
    return
  }
  if (!summary.exists) {
    out(
      `${bold(stream)}: ${yellow('no such stream yet')} (nothing published, or Redis was restarted without persistence)`,
    )
    return
  }
  const oldest = first ? ageOf(first) : undefined
  out(
    `${bold(stream)}  ${summary.length} entries  oldest ${oldest === undefined ? '—' : formatDuration(oldest)} ago  last id ${summary.lastId}`,
  )
  out('')
  const flag = (n: number | null, warn: number) =>
    n === null ? '?' : n > warn ? yellow(String(n)) : String(n)
  out(
    table(
      ['group', 'consumers', 'lag', 'pending', 'dead letters', 'unsupported version', 'last delivered'],
      groups.map((g) => [
        g.group,
        g.consumers,
        flag(g.lag, 1000),
        flag(g.pending, 100),
        g.deadLetters > 0 ? red(String(g.deadLetters)) : '0',
        g.unsupportedVersion > 0 ? yellow(String(g.unsupportedVersion)) : '0',
        g.lastDeliveredId,
      ]),
    ),
  )
  const missing = CONSUMER_GROUPS.filter((name) => !groups.some((g) => g.group === name))
  if (missing.length > 0 && groups.length > 0)
    out(dim(`\nno group yet for ${missing.join(', ')}: that app has not started on this stream`))
  if (consumers.length > 0) {
    out('')
    out(
      table(
        ['group', 'consumer', 'pending', 'idle'],
        consumers.map((c) => [c.group, c.name, c.pending, formatDuration(c.idleMs)]),
      ),
    )
  }
}

const deadLettersOf = async (ctx: OpsContext, group: string) => {
  const groups = await readGroupStats({ redis: ctx.redis, stream: ctx.stream })
  if (!groups.some((g) => g.group === group)) {
    const known = groups.map((g) => g.group).join(', ') || 'none'
    throw new OpsError(`no group "${group}" on stream "${ctx.stream}" (groups: ${known})`)
  }
  return createDeadLetters({ redis: ctx.redis, stream: ctx.stream, group })
}

/** `dlq list <group>`: one page of dead letters. */
export const dlqList = async (
  ctx: OpsContext,
  group: string,
  options: { limit: number; cursor?: string | undefined; oldest: boolean },
): Promise<void> => {
  const dlq = await deadLettersOf(ctx, group)
  const page = await dlq.list({
    limit: options.limit,
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
    order: options.oldest ? 'oldest' : 'newest',
  })
  const total = await dlq.count()
  if (ctx.json) {
    out(JSON.stringify({ total, ...page }, null, 2))
    return
  }
  if (total === 0) {
    out(`${green('no dead letters')} for group ${bold(group)} on ${ctx.stream}`)
    return
  }
  out(`${bold(String(total))} dead letters for group ${bold(group)} (${dlq.key})\n`)
  out(
    table(
      ['id', 'type', 'deliveries', 'error', 'failed at'],
      page.items.map((d) => [
        d.id,
        d.type || dim('(none)'),
        d.deliveries,
        truncate(`${d.error.code}: ${d.error.message}`, 60),
        d.failedAt,
      ]),
    ),
  )
  if (page.nextCursor) out(dim(`\nmore: bun run ops dlq list ${group} --cursor ${page.nextCursor}`))
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** The event JSON pretty-printed when it parses, else raw (a malformed entry may be why it is here). */
const prettyEvent = (raw: string): string => {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2)
  } catch {
    return raw
  }
}

/** `dlq show <group> <id>`: one dead letter in full. */
export const dlqShow = async (ctx: OpsContext, group: string, id: string): Promise<void> => {
  const dlq = await deadLettersOf(ctx, group)
  const letter = await dlq.get(id)
  if (!letter) throw new OpsError(`no dead letter ${id} for group "${group}"`)
  if (ctx.json) {
    out(JSON.stringify(letter, null, 2))
    return
  }
  const row = (label: string, value: string | number | undefined) =>
    out(`${bold(label.padEnd(16))}${value === undefined || value === '' ? dim('—') : value}`)
  row('id', letter.id)
  row('group', letter.group)
  row('type', letter.type)
  row('original', `${letter.originalStream} ${letter.originalId}`)
  row('deliveries', letter.deliveries)
  row('error', red(`${letter.error.code}: ${letter.error.message}`))
  row('failed at', letter.failedAt)
  row('replay of', letter.replayOf)
  out(`${bold('event')}\n${prettyEvent(letter.event)}`)
}

/** Asks unless `--yes`; throws when the operator says no. */
const mustConfirm = async (ctx: OpsContext, question: string) => {
  if (ctx.yes) return
  if (!(await confirm(question))) throw new OpsError('cancelled: nothing changed')
}

/** One dead letter by id, or every one of the group (`--all`). */
interface DeadLetterTarget {
  readonly id?: string | undefined
  readonly all: boolean
}

/** Applies `action` to one dead letter, or to all of them (oldest first) with a progress bar. */
const eachDeadLetter = async (
  ctx: OpsContext,
  group: string,
  target: DeadLetterTarget,
  verb: string,
  action: (letter: DeadLetter) => Promise<boolean>,
): Promise<number> => {
  const dlq = await deadLettersOf(ctx, group)
  if (!target.all) {
    const letter = target.id ? await dlq.get(target.id) : null
    if (!letter) throw new OpsError(`no dead letter ${target.id} for group "${group}"`)
    await mustConfirm(ctx, `${verb} dead letter ${letter.id} (${letter.type}) of group ${group}?`)
    return (await action(letter)) ? 1 : 0
  }
  const total = await dlq.count()
  if (total === 0) return 0
  await mustConfirm(ctx, `${verb} all ${total} dead letters of group ${group}?`)
  let done = 0
  for (;;) {
    // Each action removes the letter, so the first page is always the next batch.
    const page = await dlq.list({ limit: 100, order: 'oldest' })
    if (page.items.length === 0) break
    for (const letter of page.items) {
      if (await action(letter)) done++
      if (process.stdout.isTTY) process.stdout.write(`\r${progressBar(done, total)}`)
    }
  }
  if (process.stdout.isTTY) process.stdout.write('\n')
  return done
}

/** `dlq replay <group> <id>|--all`: back onto the main stream, for this group only. */
export const dlqReplay = async (ctx: OpsContext, group: string, target: DeadLetterTarget) => {
  const dlq = createDeadLetters({ redis: ctx.redis, stream: ctx.stream, group })
  const ids: string[] = []
  const count = await eachDeadLetter(ctx, group, target, 'Replay', async (letter) => {
    const newId = await dlq.replay(letter.id)
    if (newId) ids.push(newId)
    return newId !== null
  })
  if (ctx.json) out(JSON.stringify({ replayed: count, streamIds: ids }))
  else
    out(
      `${green('replayed')} ${count} dead letter${count === 1 ? '' : 's'} to ${ctx.stream} for group ${group}`,
    )
}

/** `dlq purge <group> <id>|--all`: delete for good. */
export const dlqPurge = async (ctx: OpsContext, group: string, target: DeadLetterTarget) => {
  const dlq = createDeadLetters({ redis: ctx.redis, stream: ctx.stream, group })
  const count = await eachDeadLetter(ctx, group, target, 'Permanently delete', (letter) =>
    dlq.purge(letter.id),
  )
  if (ctx.json) out(JSON.stringify({ purged: count }))
  else out(`${yellow('purged')} ${count} dead letter${count === 1 ? '' : 's'} of group ${group}`)
}

/** `trim --retention 7d`: MINID trim that never removes what a group still needs. */
export const trim = async (ctx: OpsContext, retentionMs: number): Promise<void> => {
  const length = await ctx.redis.xlen(ctx.stream)
  await mustConfirm(
    ctx,
    `Trim ${ctx.stream} (${length} entries) to the last ${formatDuration(retentionMs)}, never past pending or undelivered entries?`,
  )
  const result = await trimStream({ redis: ctx.redis, stream: ctx.stream, retentionMs })
  if (ctx.json) out(JSON.stringify(result))
  else
    out(
      `${green('trimmed')} ${result.trimmed} entries older than ${result.minId}; ${length - result.trimmed} remain`,
    )
}
