import { afterAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { bunCommand, uniqueStreamName } from '@flotilla/streams/testing'
import { APPS, mainOf, ROOT } from '../../scripts/lib/apps.ts'
import { readFlyConfig } from './lib/fly-config.ts'
import { cleanupRun, isolatedEnv } from './lib/isolation.ts'
import { runApp } from './lib/run-app.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = createRedisConnection(REDIS_URL, 'command')
const work = mkdtempSync(join(tmpdir(), 'flotilla-fly-prod-'))
const runs: string[] = []

afterAll(async () => {
  for (const run of runs) await cleanupRun(redis, run)
  await closeConnection(redis)
  rmSync(work, { recursive: true, force: true })
})

/** Variable names of the `fly secrets set` lines in the file's "Required" block. */
const requiredSecrets = (raw: string): string[] => {
  const block = raw.slice(raw.indexOf('Required'), raw.indexOf('# Optional'))
  const names: string[] = []
  for (const line of block.split('\n')) {
    const assignments = line.match(/fly secrets set --config \S+ (.*)$/)?.[1] ?? ''
    for (const [, name] of assignments.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=/g)) if (name) names.push(name)
  }
  return names
}

/** What an operator would set: the test's Redis, and a fresh strong value for each secret. */
const valueFor = (name: string): string => {
  if (name === 'REDIS_URL') return REDIS_URL
  if (name === 'SERVICE_TOKEN_SECRET') return `k1=${randomBytes(48).toString('base64')}`
  if (name.endsWith('_SECRET')) return randomBytes(48).toString('base64')
  throw new Error(`the test does not know how to fill ${name}`)
}

// Each fly/<app>.toml's [env] plus exactly its required secrets must boot the app in production mode;
// and each *_SECRET listed, and REDIS_URL, must really be required.
describe.each(APPS.map((app) => [app.name, app] as const))('fly/%s.toml in production', (name, app) => {
  const fly = readFlyConfig(name)
  const secrets = requiredSecrets(fly.raw)

  it('lists REDIS_URL and SERVICE_TOKEN_SECRET among the required secrets', () => {
    expect(secrets).toContain('REDIS_URL')
    expect(secrets).toContain('SERVICE_TOKEN_SECRET')
  })

  it('becomes ready with its [env] and the required secrets, and with nothing less', async () => {
    const run = uniqueStreamName(`fly-prod-${name}`)
    runs.push(run)
    const env: Record<string, string> = {
      ...fly.env,
      ...Object.fromEntries(secrets.map((s) => [s, valueFor(s)])),
    }
    expect(env.NODE_ENV).toBe('production')
    const started = await runApp(app, { run, dataDir: join(work, name), env })
    try {
      let ready = 0
      for (let i = 0; i < 300 && ready !== 200; i++) {
        ready = await fetch(`${started.url}/ready`).then((r) => r.status)
        if (ready !== 200) await Bun.sleep(100)
      }
      expect(ready).toBe(200)
    } finally {
      started.proc.kill('SIGTERM')
      await started.proc.exited
    }

    for (const secret of secrets.filter((s) => s.endsWith('_SECRET') || s === 'REDIS_URL')) {
      const without: Record<string, string> = {
        ...env,
        ...isolatedEnv(run),
        PORT: '0',
        DATA_DIR: join(work, `${name}-refused`),
      }
      delete without[secret]
      // Exactly this environment: not testProcessEnv, which would hand the missing REDIS_URL back.
      const proc = Bun.spawn(bunCommand(mainOf(app)), {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...without },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const exited = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => 'still running' as const)])
      if (exited === 'still running') proc.kill('SIGKILL')
      const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text())
      expect({ secret, exited }).toEqual({ secret, exited: 1 })
      expect(output).toContain(secret)
    }
  }, 60_000)
})
