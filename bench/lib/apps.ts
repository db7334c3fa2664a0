/** The four apps started as processes for the memory and cold-start benchmarks (isolated keys, free ports). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uniqueStreamName } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import { APPS } from '../../scripts/lib/apps.ts'
import { cleanupRun } from '../../tests/deploy/lib/isolation.ts'
import { type RunningApp, runApp } from '../../tests/deploy/lib/run-app.ts'

import { REDIS_URL } from './redis.ts'

export { APPS, type RunningApp, runApp }

/**
 * What a benchmark that starts apps holds: a Redis connection, a unique run name (the stream and the prefix of
 * every key the apps write) and a work folder, all named `bench-<name>`; `cleanup()` removes the run's keys,
 * disconnects and deletes the folder.
 */
export const createAppsRun = (name: string) => {
  const redis = new Redis(REDIS_URL)
  const run = uniqueStreamName(`bench-${name}`)
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`))
  const cleanup = async () => {
    await cleanupRun(redis, run)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
  return { redis, run, dir, cleanup }
}

/** Resident set size of a process in bytes (Linux /proc), or NaN elsewhere. */
export const rssOf = (pid: number): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = status.match(/VmRSS:\s+(\d+) kB/)?.[1]
    return kb ? Number(kb) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Polls `<url>/ready` until it answers 200; resolves to the milliseconds waited, or throws. */
export const waitReady = async (url: string, timeoutMs = 60_000, path = '/ready'): Promise<number> => {
  const start = performance.now()
  while (performance.now() - start < timeoutMs) {
    const status = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status)
      .catch(() => 0)
    if (status === 200) return performance.now() - start
    await Bun.sleep(10)
  }
  throw new Error(`${url}${path} never answered 200 within ${timeoutMs} ms`)
}

export const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1)
