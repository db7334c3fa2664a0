import { afterAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { uniqueStreamName } from '@flotilla/streams/testing'
import { nativeAddon, packageApp } from '../../docker/package-app.ts'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'
import { readFlyConfig } from './lib/fly-config.ts'
import { cleanupRun } from './lib/isolation.ts'
import { runApp } from './lib/run-app.ts'

const work = mkdtempSync(join(tmpdir(), 'flotilla-compiled-'))
const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'command')
const runs: string[] = []

afterAll(async () => {
  for (const run of runs) await cleanupRun(redis, run)
  await closeConnection(redis)
  rmSync(work, { recursive: true, force: true })
})

describe('packaging (docker/package-app.ts)', () => {
  it('stages the libSQL native addon for exactly the apps that depend on @libsql/client', () => {
    for (const app of APPS) {
      const manifest = require(join(ROOT, 'apps', app.name, 'package.json')) as {
        dependencies?: Record<string, string>
      }
      const addon = nativeAddon(join(ROOT, 'apps', app.name))
      if (manifest.dependencies?.['@libsql/client']) expect(existsSync(join(addon!, 'index.node'))).toBe(true)
      else expect(addon).toBeUndefined()
    }
  })
})

describe.each(APPS.map((app) => [app.name, app] as const))('compiled %s binary', (name, app) => {
  it('starts outside its folder as the image runs it, answers its Fly health check, and stops cleanly on SIGTERM', async () => {
    const fly = readFlyConfig(name)
    const out = join(work, name)
    const binary = await packageApp(name, out)
    const run = uniqueStreamName(`compiled-${name}`)
    runs.push(run)
    const dataDir = join(work, `${name}-data`)
    // The image: WORKDIR /app but NODE_PATH=/app/node_modules; run from another directory to prove NODE_PATH is enough.
    const env = { NODE_PATH: join(out, 'node_modules'), FLOTILLA_APP: name }
    const healthPath = fly.http_service.checks[0]?.path ?? '/health'
    const running = await runApp(app, { run, dataDir, command: [binary], cwd: work, env }, healthPath)
    const { proc } = running
    try {
      // Ready means its stores opened (the libSQL addon loaded) and its consumer joined the group.
      let ready = 0
      for (let i = 0; i < 300 && ready !== 200; i++) {
        ready = await fetch(`${running.url}/ready`).then((r) => r.status)
        if (ready !== 200) await Bun.sleep(100)
      }
      if (ready !== 200) throw new Error(`/ready answered ${ready}:\n${await running.output()}`)
      // The image's HEALTHCHECK: the same binary run as Bun on docker/healthcheck.ts.
      const probe = Bun.spawnSync([binary, join(ROOT, 'docker', 'healthcheck.ts')], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(running.port), BUN_BE_BUN: '1' },
      })
      expect(probe.exitCode).toBe(0)

      const stoppedAt = Date.now()
      proc.kill(fly.kill_signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM')
      const exited = await Promise.race([
        proc.exited,
        Bun.sleep(fly.kill_timeout * 1000).then(() => 'timeout'),
      ])
      expect(exited).toBe(0)
      expect(Date.now() - stoppedAt).toBeLessThan(fly.kill_timeout * 1000)
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    }
  }, 90_000)
})
