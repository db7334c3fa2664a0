/** The four apps started as processes for the memory and cold-start benchmarks (isolated keys, free ports). */
import { readFileSync } from 'node:fs'
import { APPS } from '../../scripts/lib/apps.ts'
import { cleanupRun } from '../../tests/deploy/lib/isolation.ts'
import { type RunningApp, runApp } from '../../tests/deploy/lib/run-app.ts'

export { APPS, cleanupRun, type RunningApp, runApp }

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
