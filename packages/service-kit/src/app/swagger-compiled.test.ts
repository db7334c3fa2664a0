import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'

// The images ship `bun build --compile` binaries: Swagger UI's files must be inside the binary, not read
// from node_modules at run time.
const dir = mkdtempSync(join(tmpdir(), 'kit-compiled-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('Swagger UI in a compiled binary', () => {
  it('serves the page and every asset with no node_modules around', async () => {
    const entry = join(dir, 'entry.ts')
    writeFileSync(
      entry,
      `import { createLogger, createMetrics, createServiceApp } from '${join(import.meta.dir, '..', 'index.ts')}'
const app = createServiceApp({ name: 'c', version: '1', logger: createLogger({ service: 'c', level: 'warn' }), metrics: createMetrics('c') })
app.listen({ port: 0, hostname: '127.0.0.1' })
console.log('PORT=' + app.server?.port)
`,
    )
    const binary = join(dir, 'server')
    const build = Bun.spawnSync(bunCommand('build', '--compile', entry, '--outfile', binary), {
      env: testProcessEnv(),
      stderr: 'pipe',
    })
    expect(build.exitCode).toBe(0)
    rmSync(entry)
    const server = Bun.spawn([binary], { cwd: dir, env: testProcessEnv(), stdout: 'pipe', stderr: 'inherit' })
    try {
      const reader = server.stdout.getReader()
      let output = ''
      while (!/PORT=\d+/.test(output)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`the binary exited: ${output}`)
        output += new TextDecoder().decode(value)
      }
      const origin = `http://127.0.0.1:${output.match(/PORT=(\d+)/)![1]}`
      const html = await (await fetch(`${origin}/swagger`)).text()
      const references = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
        (m) => m[1]!,
      )
      expect(references.length).toBeGreaterThanOrEqual(2)
      for (const reference of references) {
        const asset = await fetch(new URL(reference, `${origin}/swagger`))
        expect(asset.status).toBe(200)
        expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000)
      }
    } finally {
      server.kill()
      await server.exited
    }
  })
})
