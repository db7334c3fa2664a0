/**
 * Every app's OpenAPI document is one that tools accept: `redocly lint` (recommended rules, redocly.yaml) finds no
 * error, and `openapi-typescript` generates a client that `tsc` compiles. The documents are built in-process by
 * the runner (`startService(declaration, { port: false })`), exactly as `GET /swagger/json` serves them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SERVICE_NAMES, type ServiceName } from '@flotilla/contracts'
import { testProcessEnv } from '@flotilla/streams/testing'
import { type OpenApiDocument, openApiDocuments } from './lib/openapi-documents.ts'

const ROOT = join(import.meta.dir, '..', '..')
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name)

/** Operations redocly.yaml keeps the `operation-4xx-response` warning for (they take no input and no token). */
const NO_4XX: Readonly<Record<ServiceName, readonly string[]>> = {
  auth: ['/health', '/ready', '/metrics', '/.well-known/jwks.json', '/v1/jwks'],
  notifications: ['/health', '/ready', '/metrics'],
  audit: ['/health', '/ready', '/metrics'],
  analytics: ['/health', '/ready', '/metrics', '/dashboard'],
}

interface LintReport {
  totals: { errors: number; warnings: number }
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[]
}

let dir: string
let documents: Record<ServiceName, OpenApiDocument>
const fileOf = (name: ServiceName) => join(dir, `${name}.json`)

const run = async (command: string[], cwd = ROOT) => {
  const proc = Bun.spawn(command, {
    cwd,
    // No telemetry or update check: the build machines have no internet.
    env: testProcessEnv({ REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ])
  return { code: await proc.exited, stdout, stderr }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'))
  documents = await openApiDocuments()
  for (const name of SERVICE_NAMES) writeFileSync(fileOf(name), JSON.stringify(documents[name], null, 2))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the OpenAPI documents', () => {
  it.each([...SERVICE_NAMES])(
    '%s: redocly lint (recommended) finds no error, and only the listed warnings',
    async (name) => {
      const { stdout, stderr } = await run([
        bin('redocly'),
        'lint',
        '--config',
        join(ROOT, 'redocly.yaml'),
        '--format=json',
        fileOf(name),
      ])
      const report = JSON.parse(stdout) as LintReport
      const problems = report.problems.map(
        (p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`,
      )
      expect(report.totals.errors, `${problems.join('\n')}\n${stderr}`).toBe(0)
      const unexpected = report.problems.filter(
        (p) =>
          !(
            p.ruleId === 'operation-4xx-response' &&
            NO_4XX[name].some(
              (path) => p.location[0]?.pointer === `#/paths/${path.replaceAll('/', '~1')}/get/responses`,
            )
          ),
      )
      expect(unexpected.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`)).toEqual([])
    },
  )

  it.each([...SERVICE_NAMES])('%s: the error body is one shared schema, never inlined', (name) => {
    const document = documents[name] as OpenApiDocument & { components: { schemas: Record<string, unknown> } }
    expect(Object.keys(document.components.schemas)).toContain('ErrorBody')
    const text = JSON.stringify(document.paths)
    expect(text).toContain('"$ref":"#/components/schemas/ErrorBody"')
    // The inline form has the code's own description; only the component may carry it.
    expect(text).not.toContain('machine-readable; listed in the route description')
  })

  it('documents 401 on every operation behind a token, and 413/415/422 on every operation with a body', () => {
    const missing: string[] = []
    for (const name of SERVICE_NAMES) {
      for (const [path, item] of Object.entries(documents[name].paths)) {
        for (const [method, operation] of Object.entries(item) as [string, Record<string, unknown>][]) {
          const responses = Object.keys(operation.responses as object)
          const needs = [
            ...((operation.security as unknown[]).length > 0 ? ['401'] : []),
            ...(operation.requestBody ? ['413', '415', '422'] : []),
          ]
          for (const status of needs)
            if (!responses.includes(status)) missing.push(`${name} ${method} ${path}: ${status}`)
          if (!responses.some((s) => s.startsWith('2'))) missing.push(`${name} ${method} ${path}: 2xx`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('generates a TypeScript client with openapi-typescript that tsc compiles', async () => {
    const imports: string[] = []
    for (const name of SERVICE_NAMES) {
      const out = join(dir, `${name}.ts`)
      const generated = await run([bin('openapi-typescript'), fileOf(name), '-o', out])
      expect(generated.code, generated.stderr).toBe(0)
      imports.push(
        `import type { components as ${name}Components, paths as ${name}Paths } from './${name}.ts'`,
      )
    }
    // A consumer of the generated types: the error body and a response type resolve to real shapes.
    writeFileSync(
      join(dir, 'client.ts'),
      `${imports.join('\n')}
type Error = authComponents['schemas']['ErrorBody']
export const code = (e: Error): string => e.error.code
type Health = auditPaths['/health']['get']['responses'][200]['content']['application/json']
export const status = (h: Health): 'ok' => h.status
type Records = auditPaths['/v1/audit/events']['get']['responses'][200]['content']['application/json']
export type Summary = [notificationsPaths, analyticsPaths, Records, notificationsComponents, analyticsComponents, auditComponents, authPaths]
`,
    )
    const compiled = await run(
      [
        bin('tsc'),
        '--noEmit',
        '--strict',
        '--noUncheckedIndexedAccess',
        '--module',
        'esnext',
        '--moduleResolution',
        'bundler',
        '--target',
        'es2022',
        '--allowImportingTsExtensions',
        'client.ts',
        // Outside the repository: tsc would otherwise load every @types package under node_modules.
      ],
      dir,
    )
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0)
  }, 60_000)
})
