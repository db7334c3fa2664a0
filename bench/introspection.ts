/**
 * Token introspection over HTTP with wrk: `POST /v1/tokens/introspect` on the auth app (a Redis session
 * lookup behind a service token) against an Elysia JSON hello and a Bun.serve hello, each its own process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { TEST_SERVICE_SECRET } from '../apps/auth/src/testing.ts'
import { compare, type Measurement, section } from './lib/harness.ts'
import { type ServerProcess, startServer } from './lib/servers.ts'

const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_WRK_CONNECTIONS ?? 32)
const ELYSIA = 'Elysia JSON hello'

export const WRK_MISSING =
  'wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench introspection` again.'

/** Runs wrk once (1 thread: the server gets the other core); parses requests/s, latency and non-2xx answers. */
const wrk = async (url: string, script?: string): Promise<Measurement> => {
  const args = [
    'wrk',
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${SECONDS}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ]
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const text = await new Response(proc.stdout).text()
  await proc.exited
  const requests = Number(text.match(/(\d+) requests in/)?.[1] ?? Number.NaN)
  const seconds = Number(text.match(/requests in ([\d.]+)s/)?.[1] ?? SECONDS)
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0)
  if (non2xx > 0)
    throw new Error(`${url}: ${non2xx} answers were not 2xx — the benchmark would measure errors`)
  const ms = (label: string) => {
    const m = text.match(new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`))
    if (!m) return Number.NaN
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  return { ops: requests, seconds, extra: { 'p50 ms': ms('50'), 'p99 ms': ms('99') } }
}

const PROFILE = `Where the auth app's time goes (\`bun --cpu-prof\` of the server under this wrk load, ~2,000 requests/s, about
500 µs of CPU per request): signature verification ~35% (jose \`verifySignature\`: the service token's HMAC and
the access token's Ed25519, ~170 µs per request on this loaded machine), the two rate-limit checks (per ip, per
user; one Redis round trip each through rate-limiter-flexible) ~14%, the session read ~7%, and the rest in
Elysia's request handling, body parsing, response serialisation and ioredis. An Ed25519 verification alone costs
more than a whole hello request (~20 µs here), so ≥ 0.35× of a hello cannot be reached while every request
verifies two signatures; it would take caching verified tokens (for their remaining lifetime, keyed by the
token hash) — a change in the auth service, reported here rather than made.`

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  if (!Bun.which('wrk')) return `### token introspection\n\nNot measured: ${WRK_MISSING}`
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  const servers: ServerProcess<{ accessToken?: string }>[] = []
  try {
    const auth = await startServer<{ accessToken: string }>(
      join(import.meta.dir, 'servers', 'auth-introspect.ts'),
    )
    servers.push(auth)
    const elysia = await startServer(join(import.meta.dir, 'servers', 'elysia-hello.ts'))
    servers.push(elysia)
    const bun = await startServer(join(import.meta.dir, 'servers', 'bun-hello.ts'))
    servers.push(bun)
    const signer = createServiceTokenSigner(parseKeyRing(TEST_SERVICE_SECRET), 'monolith')
    const script = join(dir, 'introspect.lua')
    const result = await compare({
      title: `HTTP, wrk 1 thread × ${CONNECTIONS} connections, ${SECONDS} s per round`,
      unit: 'requests/s',
      contenders: [
        {
          name: 'auth POST /v1/tokens/introspect',
          // A fresh service token each round (they live 60 s).
          prepare: async () => {
            const token = await signer.sign({ audience: 'auth' })
            writeFileSync(
              script,
              `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ token: auth.info.accessToken })}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`,
            )
          },
          run: () => wrk(`${auth.url}/v1/tokens/introspect`, script),
        },
        { name: ELYSIA, run: () => wrk(`${elysia.url}/`) },
        { name: 'Bun.serve hello', run: () => wrk(`${bun.url}/`) },
      ],
    })
    return section(result, ELYSIA, '≥ 0.35× Elysia JSON', [
      'Each server is its own `bun` process on a free port; wrk takes one thread, so on 2 cores the server and wrk each have about one. Introspection answers `active: true` for a live session: the service token is verified (HMAC), the access token verified (EdDSA), and the session read from Redis. Any non-2xx answer aborts the benchmark rather than counting errors as throughput.',
      PROFILE,
    ])
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
