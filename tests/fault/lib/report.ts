/** The results table: collected per scenario, printed, and written to docs/reliability.md on a full run. */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

export interface ResultRow {
  readonly scenario: string
  readonly published: number
  readonly acknowledged: number
  /** Publish attempts that failed or timed out (retried with the same event id). */
  readonly unknown: number
  /** Events that should have been processed and were not (must be 0). */
  readonly lost: number
  /** Events Redis acknowledged and then lost itself (a restart without persistence), reported apart. */
  readonly lostByRedis: number
  readonly duplicateCalls: number
  readonly duplicateEffects: number
  readonly pending: number
  readonly deadLetters: number
  /** From the last fault to everything processed (or as the scenario defines it). */
  readonly recoveryMs: number
  /** What happened, in a sentence or two (kills, refused acks, deleted entries…). */
  readonly notes: string
}

const rows: ResultRow[] = []

export const record = (row: ResultRow): void => {
  rows.push(row)
}

export const recorded = (): readonly ResultRow[] => rows

const HEAD = [
  'scenario',
  'published',
  'acked by Redis',
  'unknown (timed out)',
  'lost',
  'lost by Redis',
  'dup handler calls',
  'dup effects',
  'pending at end',
  'dead letters',
  'recovery',
] as const

const cells = (r: ResultRow) => [
  r.scenario,
  String(r.published),
  String(r.acknowledged),
  String(r.unknown),
  String(r.lost),
  String(r.lostByRedis),
  String(r.duplicateCalls),
  String(r.duplicateEffects),
  String(r.pending),
  String(r.deadLetters),
  `${(r.recoveryMs / 1000).toFixed(1)} s`,
]

/** The table as Markdown. */
const markdownTable = (list: readonly ResultRow[] = rows): string => {
  const lines = [
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ]
  for (const r of list) lines.push(`| ${cells(r).join(' | ')} |`)
  return lines.join('\n')
}

/** The table as aligned plain text for the console. */
export const textTable = (list: readonly ResultRow[] = rows): string => {
  const all = [[...HEAD], ...list.map(cells)]
  const widths = HEAD.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)))
  return all
    .map((row) =>
      row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n')
}

/**
 * Measured outside this suite (\`bench/revocation.ts\`, \`tests/security\`), kept here so a full run does not drop it.
 * Update the figures when the benchmark is rerun.
 */
const REVOCATION_AND_OUTAGES = `## Revocation and Redis outages

Not fault-suite scenarios: measured by \`bench/revocation.ts\` and checked by \`tests/security/revocation.test.ts\`
and \`tests/security/redis-down.test.ts\` (this section is part of the generator, \`tests/fault/lib/report.ts\`).

- **Revocation reaches every service** (logout, device removed, password change, user deleted, refresh-token reuse,
  emergency key retirement): auth writes the revoked \`sid\`, user ("issued before") or \`kid\` to a sorted set and
  publishes it on \`{events}:revocations\` in one script; each service's verifier keeps a local copy fed by that
  channel and reloaded on every reconnect. From auth's revoke call to the first refusal by a verifier on other
  connections: median 0.3–0.4 ms, worst of 60 revocations 0.7–4 ms (2026-12-03, loopback Redis 7, 2 cores
  shared at load average 11–15). A service that has not heard (subscriber down) reads the sets per check;
  with Redis unreachable it answers 503, never 200.
- **Redis unreachable**: every auth route that needs Redis (session creation, refresh, introspection, revocation,
  listing) and analytics' uniques answer 503 \`DEPENDENCY_UNAVAILABLE\` at once (2–50 ms with the server killed;
  a command to a server that hangs times out after 1 s) — before: 500 after 5–7 s. The JWKS is served from
  memory; Redis client errors are JSON log lines.`

/** Writes docs/reliability.md: the table, the Redis version, the date, the machine and the run time. */
export const writeReliabilityReport = (info: { redisVersion: string; seconds: number }): string => {
  const path = join(import.meta.dir, '..', '..', '..', 'docs', 'reliability.md')
  const text = `# Reliability: fault-suite results

Written by \`tests/fault\` (\`bun test ./tests/fault\`) on every full run; do not edit by hand.

- Date: ${new Date().toISOString()}
- Redis: ${info.redisVersion} (private \`redis-server\` processes started by the suite, killed for real)
- Machine: ${cpus().length} cores, Bun ${Bun.version}
- Suite run time: ${info.seconds.toFixed(0)} s
- Timeouts shortened for the run: \`claimIdleMs\` 500 ms, \`blockMs\` 200 ms, backoff 50…200 ms.

${markdownTable()}

## Columns

- **published**: distinct events the scenario produced. **acked by Redis**: distinct events an XADD returned a
  stream id for. **unknown (timed out)**: publish attempts that failed or timed out; each was retried with the
  same event id, so Redis may hold a duplicate entry (consumers deduplicate on the envelope id).
- **lost**: events that reached the stream (or were acknowledged) and whose effect was never applied. Must be 0.
  **lost by Redis**: events Redis acknowledged and then lost itself (a restart without persistence) — stated,
  not hidden.
- **dup handler calls**: handler calls beyond the first for an event id (at-least-once at work: a crash between
  effect and ack, a claimed entry). **dup effects**: effects applied more than once per event id. Must be 0.
- **pending at end**: entries left in the group's pending list. **dead letters**: entries on
  \`{stream}:dlq:<group>\`. **recovery**: from the last fault to every event processed and nothing pending.

## What each scenario did

${rows.map((r) => `- **${r.scenario}**: ${r.notes}`).join('\n')}

${REVOCATION_AND_OUTAGES}
`
  writeFileSync(path, text)
  return path
}
