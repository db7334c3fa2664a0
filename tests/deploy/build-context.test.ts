/**
 * The Docker build context (the repository root, filtered by `.dockerignore`) stays small and holds no secrets:
 * walks the working tree the way the builder does (untracked files too: node_modules, .env, .data) and applies the
 * ignore file's patterns with Docker's rules (anchored at the root, `**`, the last matching line wins, `!` re-admits).
 */
import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { inputsNotAnswering } from '@flotilla/contracts/testing'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'

/** The largest context accepted: the tracked sources are ~2.5 MB; node_modules alone is hundreds of MB. */
const MAX_CONTEXT_BYTES = 8 * 1024 * 1024

interface Rule {
  readonly glob: Bun.Glob
  readonly include: boolean
}

const rules: Rule[] = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const include = line.startsWith('!')
    const pattern = (include ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '')
    return { glob: new Bun.Glob(pattern), include }
  })

/** Whether the builder leaves `path` (relative, `/`-separated) out: a pattern matching it or a parent folder. */
const excluded = (path: string): boolean => {
  const parts = path.split('/')
  let out = false
  for (const rule of rules) {
    for (let i = 1; i <= parts.length; i++) {
      if (rule.glob.match(parts.slice(0, i).join('/'))) {
        out = !rule.include
        break
      }
    }
  }
  return out
}

const hasNegation = rules.some((rule) => rule.include)

/** Every file of the context, with its size. */
const contextFiles = (): Map<string, number> => {
  const files = new Map<string, number>()
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(ROOT, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name
      // A folder left out is not walked (as the builder does), unless a `!` line could re-admit something in it.
      if (excluded(path) && !(entry.isDirectory() && hasNegation)) continue
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile() && !excluded(path)) files.set(path, statSync(join(ROOT, path)).size)
    }
  }
  walk('')
  return files
}

describe('the Docker build context (.dockerignore)', () => {
  const files = contextFiles()
  const total = [...files.values()].reduce((sum, size) => sum + size, 0)

  it(`stays under ${MAX_CONTEXT_BYTES / 1024 / 1024} MiB`, () => {
    console.log(`build context: ${files.size} files, ${(total / 1024 / 1024).toFixed(2)} MiB`)
    expect(total).toBeLessThan(MAX_CONTEXT_BYTES)
  })

  it('leaves out node_modules, local data, git history and every .env file', () => {
    const leaked = [...files.keys()].filter((path) =>
      /(^|\/)(node_modules|\.data|\.git)(\/|$)|(^|\/)\.env(\.|$)/.test(path),
    )
    expect(leaked).toEqual([])
    expect(
      inputsNotAnswering(true, excluded, [
        '.env',
        'apps/audit/.env',
        'node_modules/elysia/package.json',
        '.data/x.db',
        '.git/HEAD',
      ]),
    ).toEqual([])
  })

  it('keeps what the images build from: the lockfile, every workspace manifest, the packaging script, the gateway config', () => {
    const workspaces = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces
    const manifests = workspaces.flatMap((pattern) =>
      [...new Bun.Glob(`${pattern}/package.json`).scanSync({ cwd: ROOT })].filter((path) =>
        existsSync(join(ROOT, path)),
      ),
    )
    expect(manifests.length).toBeGreaterThan(APPS.length)
    const needed = [
      'package.json',
      'bun.lock',
      'bunfig.toml',
      'tsconfig.base.json',
      'docker/package-app.ts',
      'docker/healthcheck.ts',
      'docker/gateway/nginx.conf',
      'docker/gateway/services.conf',
      'docker/gateway/env/fly.conf',
      ...manifests,
      ...APPS.map((app) => `apps/${app.name}/src/main.ts`),
    ]
    expect(needed.filter((path) => !files.has(path))).toEqual([])
  })
})
