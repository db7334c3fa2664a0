/** Test helpers (`@flotilla/streams/testing`): unique streams, cleanup, polling. */
import { randomBytes } from 'node:crypto'
import { deadLetterStreamKey } from '@flotilla/contracts'
import { mastersOf, nodeFor } from './cluster.ts'
import type { RedisClient } from './connection.ts'
import { pairsToRecord } from './consumer/replies.ts'

/** A stream name no other test uses: `test:<prefix>:<random>` (no braces, so hash tags stay intact). */
export const uniqueStreamName = (prefix = 'stream'): string =>
  `test:${prefix}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`

// Glob-escape for SCAN MATCH.
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&')

/**
 * Deletes a stream and every key hash-tagged with it: its dead-letter streams (`{stream}:dlq:*`) and consumer
 * heartbeats (`{stream}:alive:*`). Never touches other keys.
 */
export const cleanupStream = async (redis: RedisClient, stream: string): Promise<void> => {
  const keys = new Set([stream])
  const groups = await redis.xinfo('GROUPS', stream).catch(() => [])
  for (const g of Array.isArray(groups) ? groups : [])
    keys.add(deadLetterStreamKey(stream, String(pairsToRecord(g).name)))
  // Every such key lives in the stream's slot, so on a cluster one node holds them all.
  const node = nodeFor(redis, stream) ?? redis
  let cursor = '0'
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', `${escapeGlob(`{${stream}}:`)}*`, 'COUNT', 1000)
    cursor = next
    for (const key of found) keys.add(key)
  } while (cursor !== '0')
  await redis.del(...keys)
}

/** Deletes every key matching a SCAN pattern (a test's own key prefix) — never FLUSHDB. */
export const deleteKeysMatching = async (redis: RedisClient, pattern: string): Promise<void> => {
  // SCAN sees one node's keys: on a cluster, ask every master, and delete key by key (one DEL may not span slots).
  for (const node of mastersOf(redis)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      await Promise.all(keys.map((key) => node.unlink(key)))
    } while (cursor !== '0')
  }
}

/** The name `docs/foundation-api.md` uses for `cleanupStream`. */
export const cleanupStreamKeys = cleanupStream

/** Polls `predicate` until it returns something truthy; rejects after `timeoutMs` with `message`. */
export const waitFor = async <T>(
  predicate: () => T | Promise<T>,
  {
    timeoutMs = 5000,
    intervalMs = 20,
    message = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * The variables a test takes from its caller: where the shared infrastructure is (`REDIS_URL`,
 * `REDIS_CLUSTER_URL`, `DATABASE_URL`, `MONGODB_URL`), the switches the suites document (`CHROMIUM_PATH`, `FLOTILLA_NODE22`, `E2E_KEEP_LOGS`,
 * `UPDATE_SCREENSHOT`), and what the machine's tools need to run at all (PATH, HOME, temp dir, locale, CI, TLS
 * roots and proxies for `npm`). Never an app's configuration: a developer's shell or `.env` cannot leak in.
 */
const PASSED_THROUGH =
  /^(PATH|HOME|USER|TMPDIR|TEMP|TMP|LANG|LC_[A-Z]+|TERM|CI|REDIS_URL|REDIS_CLUSTER_URL|DATABASE_URL|MONGODB_URL|CHROMIUM_PATH|FLOTILLA_NODE22|E2E_KEEP_LOGS|UPDATE_SCREENSHOT|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy)$/

/**
 * The environment for a process a test starts (or a test process `bun run test` starts): the passed-through
 * variables of this process that are set, then `vars` — nothing else of the caller's environment.
 * @example Bun.spawn(bunCommand('src/main.ts'), { env: testProcessEnv({ NODE_ENV: 'test', EVENTS_STREAM: stream }) })
 */
export const testProcessEnv = (
  vars: Readonly<Record<string, string | undefined>> = {},
  from: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(from))
    if (value !== undefined && PASSED_THROUGH.test(name)) env[name] = value
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value
  return env
}

/** The Redis every test talks to: `REDIS_URL` when set, else the local default. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * The Redis Cluster the cluster suites run on (`REDIS_CLUSTER_URL`: comma-separated seed nodes, as
 * `scripts/redis-cluster.sh start` prints them); undefined when none is given, and those suites skip visibly.
 */
export const TEST_REDIS_CLUSTER_URL: string | undefined = process.env.REDIS_CLUSTER_URL || undefined

/** Why the cluster suites are skipped here (for the skip's name), or undefined when a cluster is given. */
export const clusterSkipReason: string | undefined = TEST_REDIS_CLUSTER_URL
  ? undefined
  : 'SKIPPED: no REDIS_CLUSTER_URL (start one with scripts/redis-cluster.sh start)'

/**
 * `bun <args>` that ignores any `.env` file in the working directory (`--no-env-file`), so a developer's copy of
 * `.env.example` cannot change what a test starts.
 */
export const bunCommand = (...args: string[]): string[] => ['bun', '--no-env-file', ...args]
