import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { bunCommand, testProcessEnv, uniqueStreamName } from '@flotilla/streams/testing'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'
import { cleanupRun, isolatedEnv } from './lib/isolation.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const stream = uniqueStreamName('stack')
const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-stack-'))
const redis = createRedisConnection(REDIS_URL, 'command')

afterAll(async () => {
  await cleanupRun(redis, stream)
  await closeConnection(redis)
  rmSync(dataDir, { recursive: true, force: true })
})

/** Reads the stack's stdout until `predicate` holds for everything printed so far. */
const readUntil = async (
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { text: string },
  predicate: (text: string) => boolean,
  timeoutMs: number,
) => {
  const deadline = Date.now() + timeoutMs
  const decoder = new TextDecoder()
  while (!predicate(seen.text)) {
    const chunk = await Promise.race([
      reader.read(),
      Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null),
    ])
    if (!chunk || chunk.done) break
    seen.text += decoder.decode(chunk.value, { stream: true })
  }
  return predicate(seen.text)
}

/**
 * A port offset whose four app ports are free right now, below Linux's ephemeral range (32768+) so outgoing
 * connections of other processes cannot take them between this check and the stack's start.
 */
const freePortOffset = (): number => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 7_000 + Math.floor(Math.random() * 20_000)
    const ports = APPS.map((app) => app.port + offset)
    const free = ports.every((port) => {
      try {
        Bun.serve({ port, hostname: '0.0.0.0', fetch: () => new Response() }).stop(true)
        return true
      } catch {
        return false
      }
    })
    if (free) return offset
  }
  throw new Error('no free port range for the stack')
}

describe('bun run start', () => {
  it('reports apps without an entry point, brings the others to ready, and stops them all on SIGINT', async () => {
    // A port range and stream of its own, so it runs beside a developer's stack.
    const offset = freePortOffset()
    const proc = Bun.spawn(bunCommand('scripts/stack.ts', '--port-offset', String(offset)), {
      cwd: ROOT,
      env: testProcessEnv({
        ...isolatedEnv(stream),
        REDIS_URL,
        DATA_DIR: dataDir,
        NO_COLOR: '1',
        LOG_LEVEL: 'warn',
      }),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const stderr = new Response(proc.stderr).text()
    const reader = proc.stdout.getReader()
    const seen = { text: '' }
    const present = APPS
    try {
      expect(await readUntil(reader, seen, (t) => t.includes('redis answering'), 10_000)).toBe(true)
      const allReady = `all ${present.length} apps ready`
      const ready = await readUntil(reader, seen, (t) => t.includes(allReady), 60_000)
      if (!ready) {
        proc.kill('SIGKILL')
        throw new Error(`not all apps became ready:\n${seen.text}\n${await stderr}`)
      }
      for (const app of present) {
        expect(seen.text).toContain(`http://127.0.0.1:${app.port + offset}/swagger`)
        const health = await fetch(`http://127.0.0.1:${app.port + offset}/health`)
        expect(health.status).toBe(200)
      }
      proc.kill('SIGINT')
      expect(await proc.exited).toBe(0)
      const rest = await new Response(
        new ReadableStream({
          async pull(controller) {
            const { value, done } = await reader.read()
            if (done) controller.close()
            else controller.enqueue(value)
          },
        }),
      ).text()
      for (const app of present) expect(rest).toMatch(new RegExp(`${app.name} stopped`))
      for (const app of present) {
        const after = await fetch(`http://127.0.0.1:${app.port + offset}/health`).catch(() => null)
        expect(after).toBeNull()
      }
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    }
  }, 120_000)
})
