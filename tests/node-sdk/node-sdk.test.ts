/**
 * The SDK as a Node monolith gets it: build the three packages, pack them, `npm install` the tarballs into a
 * throwaway project, and there, with `node`, publish, relay through the outbox and call auth.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestApp, TEST_SERVICE_SECRET, type TestApp } from '@flotilla/auth/testing'
import { createTestSchema, type TestSchema } from '@flotilla/sdk/testing'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { bunCommand, cleanupStream, testProcessEnv, uniqueStreamName } from '@flotilla/streams/testing'

// Build, pack and npm install on a shared 2-core machine.
setDefaultTimeout(300_000)

const ROOT = join(import.meta.dir, '..', '..')
const PACKAGES = ['contracts', 'streams', 'sdk'] as const
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
// Another Node to try besides `node` on the PATH (e.g. a Node 22 binary), when the machine has one.
const EXTRA_NODE = process.env.FLOTILLA_NODE22

/** Runs a command to completion; throws with everything it printed when it fails. */
const run = async (cmd: string[], cwd: string, env: Record<string, string | undefined> = {}) => {
  const proc = Bun.spawn(cmd, { cwd, env: testProcessEnv(env), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${code}\n${stdout}\n${stderr}`)
  return stdout
}

const project = mkdtempSync(join(tmpdir(), 'flotilla-node-sdk-'))
const redis = createRedisConnection(REDIS_URL, 'command')
const streamName = uniqueStreamName('node-sdk')
let auth: TestApp | undefined
let server: ReturnType<typeof Bun.serve> | undefined
let db: TestSchema | undefined
let manifests: Record<string, { dependencies?: Record<string, string> }> = {}

beforeAll(async () => {
  await run(bunCommand('run', 'build:sdk'), ROOT)
  const packs = join(project, 'packs')
  for (const name of PACKAGES)
    await run(['bun', 'pm', 'pack', '--quiet', '--destination', packs], join(ROOT, 'packages', name))
  const tarballs = readdirSync(packs)
  const tarballOf = (name: string) => {
    const file = tarballs.find((f) => f.startsWith(`flotilla-${name}-`) && f.endsWith('.tgz'))
    if (!file) throw new Error(`no tarball for ${name} in ${tarballs.join(', ')}`)
    return `file:packs/${file}`
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'node-monolith',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(PACKAGES.map((n) => [`@flotilla/${n}`, tarballOf(n)])),
    }),
  )
  await run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error'], project)
  manifests = Object.fromEntries(
    PACKAGES.map((n) => [
      n,
      JSON.parse(readFileSync(join(project, 'node_modules', '@flotilla', n, 'package.json'), 'utf8')),
    ]),
  )
  copyFileSync(join(import.meta.dir, 'fixture', 'monolith.mjs'), join(project, 'monolith.mjs'))

  auth = await createTestApp()
  const app = auth.app
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => app.handle(request) })
  db = await createTestSchema()
})

afterAll(async () => {
  server?.stop(true)
  await auth?.close()
  await db?.drop()
  await cleanupStream(redis, streamName)
  await closeConnection(redis)
  rmSync(project, { recursive: true, force: true })
})

interface MonolithReport {
  node: string
  directId: string
  outboxId: string
  relayed: number
  session: { status: number; sessionId: string | null; error: unknown }
  introspected: { active: boolean; sub?: string; sid?: string } | null
}

/** Runs the fixture monolith with one Node binary against this test's stream, schema and auth. */
const runMonolith = async (node: string): Promise<MonolithReport> => {
  const stdout = await run([node, 'monolith.mjs'], project, {
    REDIS_URL,
    EVENTS_STREAM: streamName,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    OUTBOX_SCHEMA: db!.schema,
    AUTH_URL: `http://127.0.0.1:${server!.port}`,
    SERVICE_TOKEN_SECRET: TEST_SERVICE_SECRET,
    SERVICE_NAME: 'monolith',
    NODE_ENV: 'test',
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as MonolithReport
}

/** The envelope ids and types on the test stream. */
const onStream = async () =>
  (await redis.xrange(streamName, '-', '+')).map(([, fields]) => {
    const event = JSON.parse(fields[fields.indexOf('event') + 1]!) as { id: string; type: string }
    return { id: event.id, type: event.type }
  })

describe('the SDK from a Node project', () => {
  it('packs real versions in place of workspace dependencies, and no app', () => {
    for (const [name, manifest] of Object.entries(manifests)) {
      const deps = manifest.dependencies ?? {}
      expect(
        Object.values(deps).filter((v) => v.startsWith('workspace:')),
        name,
      ).toEqual([])
      expect(
        Object.keys(deps).filter((d) => ['@flotilla/auth', '@flotilla/service-kit'].includes(d)),
      ).toEqual([])
    }
    expect(manifests.sdk?.dependencies?.['@flotilla/contracts']).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('publishes, relays an outbox row and calls auth under node', async () => {
    const report = await runMonolith('node')
    expect(Number(report.node.slice(1).split('.')[0])).toBeGreaterThanOrEqual(20)
    expect(report.relayed).toBe(1)
    expect(report.session.status).toBe(201)
    expect(report.introspected).toMatchObject({ active: true, sub: 'u_node', sid: report.session.sessionId! })
    const entries = await onStream()
    expect(entries).toContainEqual({ id: report.directId, type: 'user.registered' })
    expect(entries).toContainEqual({ id: report.outboxId, type: 'user.password.changed' })
    // The session exists in auth itself, opened by the Node process's call.
    const [added] = await auth!.core.published('auth.device.added')
    expect(added?.payload).toMatchObject({ userId: 'u_node' })
  })

  it.skipIf(!EXTRA_NODE)(`does the same under $FLOTILLA_NODE22 (${EXTRA_NODE ?? 'not set'})`, async () => {
    const report = await runMonolith(EXTRA_NODE!)
    expect(report.relayed).toBe(1)
    expect(report.session.status).toBe(201)
    expect((await onStream()).map((e) => e.id)).toContain(report.outboxId)
  })
})
