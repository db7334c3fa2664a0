import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'
import { readFlyConfig } from './lib/fly-config.ts'

/** Dockerfile instructions, continuation lines joined, comments dropped: `[keyword, rest]`. */
const instructions = (path: string): [string, string][] =>
  readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/)
      return [keyword.toUpperCase(), rest.join(' ')]
    })

const dockerfile = instructions(join(ROOT, 'docker', 'Dockerfile'))
const stages = dockerfile.reduce<[string, string][][]>((acc, step) => {
  if (step[0] === 'FROM') acc.push([])
  acc.at(-1)?.push(step)
  return acc
}, [])
const [build = [], runtime = []] = stages
const find = (stage: [string, string][], keyword: string) =>
  stage.filter(([k]) => k === keyword).map(([, v]) => v)

// The compiled-binary test runs what this image runs; these checks keep the two from drifting apart.
describe('docker/Dockerfile', () => {
  it('compiles with the pinned Bun version (.bun-version), through the same packaging script as the smoke test', () => {
    const pinned = readFileSync(join(ROOT, '.bun-version'), 'utf8').trim()
    expect(dockerfile.find(([k, v]) => k === 'ARG' && v.startsWith('BUN_VERSION='))?.[1]).toBe(
      `BUN_VERSION=${pinned}`,
    )
    expect(find(build, 'RUN')).toContain('bun install --frozen-lockfile')
    expect(find(build, 'RUN')).toContain('bun docker/package-app.ts "$APP" /out')
  })

  it('runs the binary as a non-root user with the staged addons on NODE_PATH', () => {
    expect(find(runtime, 'FROM')[0]).toMatch(/^debian:\S+-slim/)
    expect(find(runtime, 'ENV').join(' ')).toContain('NODE_PATH=/app/node_modules')
    expect(find(runtime, 'COPY')).toContain('--from=build --chown=root:root /out/ /app/')
    const user = find(runtime, 'USER')
    expect(user).toHaveLength(1)
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/)
    expect(find(runtime, 'ENTRYPOINT')).toEqual(['["/app/server"]'])
  })

  it('probes health with the binary itself and stops with the signal Fly sends', () => {
    expect(find(runtime, 'COPY')).toContain('--chown=root:root docker/healthcheck.ts /app/healthcheck.ts')
    expect(find(runtime, 'HEALTHCHECK')[0]).toContain(
      'CMD ["env", "BUN_BE_BUN=1", "/app/server", "/app/healthcheck.ts"]',
    )
    for (const app of APPS) expect(find(runtime, 'STOPSIGNAL')).toEqual([readFlyConfig(app.name).kill_signal])
  })

  it('runs on the Bun the README asks for', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const minimum = readme.match(/\[Bun\]\([^)]*\) ≥ ([\d.]+)/)?.[1]
    expect(minimum).toBeDefined()
    const parts = (v: string) => v.split('.').map(Number)
    const [major = 0, minor = 0] = parts(Bun.version)
    const [needMajor = 0, needMinor = 0] = parts(minimum ?? '')
    expect(major > needMajor || (major === needMajor && minor >= needMinor)).toBe(true)
  })

  it('exposes every port of the service list', () => {
    expect(find(runtime, 'EXPOSE')).toEqual([APPS.map((a) => a.port).join(' ')])
  })
})
