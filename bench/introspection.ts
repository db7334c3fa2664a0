/**
 * Token introspection over HTTP with wrk: `POST /v1/tokens/introspect` on the auth app (a Redis session
 * lookup behind a service token) against an Elysia JSON hello and a Bun.serve hello, each its own process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TEST_SERVICE_SECRET } from '@flotilla/auth/testing'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import {
  type BenchOptions,
  type BenchReport,
  type Contender,
  compare,
  type Measurement,
  ratioTarget,
  reportOf,
} from './lib/harness.ts'
import { type ServerProcess, startServer } from './lib/servers.ts'

const CONNECTIONS = Number(process.env.BENCH_WRK_CONNECTIONS ?? 32)
const ELYSIA = 'Elysia JSON hello'
const FLOOR = 'reference: Elysia POST + the same 3 Redis calls, no auth'
const POST = 'ceiling: bare Elysia JSON POST (same body, validated), no Redis'
const KIT = 'ceiling: the same POST on the service kit (ids, access log, metrics, span), no Redis'

export const WRK_MISSING =
  'wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench introspection` again.'

/** Runs wrk once (1 thread: the server gets the other core); parses requests/s, latency and non-2xx answers. */
const wrk = async (seconds: number, url: string, script?: string): Promise<Measurement> => {
  const args = [
    'wrk',
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ]
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const text = await new Response(proc.stdout).text()
  await proc.exited
  const requests = Number(text.match(/(\d+) requests in/)?.[1] ?? Number.NaN)
  const elapsed = Number(text.match(/requests in ([\d.]+)s/)?.[1] ?? seconds)
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0)
  if (non2xx > 0)
    throw new Error(`${url}: ${non2xx} answers were not 2xx — the benchmark would measure errors`)
  const ms = (label: string) => {
    const m = text.match(new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`))
    if (!m) return Number.NaN
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  return { ops: requests, seconds: elapsed, extra: { 'p50 ms': ms('50'), 'p99 ms': ms('99') } }
}

const PROFILE = `**Why the target is missed, and what was done.** Before 2026-11-27 this route ran at ~4,900 requests/s on a quiet
machine (0.03× of a hello): every request verified two signatures (the service token's HMAC, the access token's
Ed25519: ~20% of the profile), read a copy of the body through a cloned stream to count it (~15%), sent three
Redis commands one after another, each its own socket write (~21% in \`writeBuffered\`), traced every ioredis
command because Bun lacks \`TracingChannel.hasSubscribers\` (oven-sh/bun#27805), and encoded each answer through
the response union because Elysia's \`t.Integer\` is a transform (~8%). Now: verified tokens are remembered by
SHA-256 (a hit must resolve to the very key that verified it, so retirement still takes effect at once), the
monolith's signer reuses its service token for half its life, a declared \`content-length\` bounds the body
without a copy, the command connection is auto-pipelined and the three commands leave together (the ip limit
while the token verifies; the session read and the per-user count once it has), the session check reads three
fields, and the ioredis tracing check is fixed. Measured side by side against the previous code: ~4,900 → 13,700–19,600
requests/s under the same load.

What is left (\`bun --cpu-prof\` of the server under this load): ioredis sending and parsing the three commands
~30% (two of them Lua scripts from rate-limiter-flexible, whose JavaScript adds ~8%; a command timer per command
~3%), the two verified-token lookups ~6% (half of it SHA-256), Elysia's request handling, body parse and checks,
the service kit's hooks (request ids, access log line, metrics: a kit POST alone runs at ~0.65× of a bare Elysia
POST) and the socket writes. The reference row is the floor of this design: the same three Redis calls behind a bare
Elysia POST, with no tokens, no kit and no rate-limit library, reach only about 0.5× of a hello. Meeting 0.35× would
leave ~70% of that floor's throughput for two token checks, two rate limits, the kit's logging and metrics and
the response checks. One Redis call per request (both limits and the session read in one script) would need the
three keys in one hash slot, but they are per ip, per user and per session, so no script may touch them together on
a Redis Cluster; dropping per-request access logs or the per-user limit would trade away operations or abuse
protection. Neither was done.`

const AUTH = 'auth POST /v1/tokens/introspect'

/** The markdown section for docs/benchmarks.md and the introspection ÷ hello target, checked per round. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  if (!Bun.which('wrk'))
    return { markdown: `### token introspection\n\nNot measured: ${WRK_MISSING}`, checks: [] }
  const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? (quick ? 1 : 3))
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  const servers: ServerProcess<{ accessToken?: string }>[] = []
  try {
    const script = (name: string) => join(dir, name)
    const signer = createServiceTokenSigner(parseKeyRing(TEST_SERVICE_SECRET), 'monolith')
    // A current service token each round: the signer renews it at half its 60 s lifetime.
    const writeAuthScript = async () => {
      const token = await signer.sign({ audience: 'auth' })
      writeFileSync(
        script('introspect.lua'),
        `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ token: auth.info.accessToken })}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`,
      )
    }
    const auth = await startServer<{ accessToken: string }>(
      join(import.meta.dir, 'servers', 'auth-introspect.ts'),
    )
    servers.push(auth)
    const introspect = () => wrk(SECONDS, `${auth.url}/v1/tokens/introspect`, script('introspect.lua'))
    // Quick: the auth server warms up (JIT, token cache) while the hello starts, and the compare has no
    // warm-up round nor the two reference rows, so the whole run stays near ten seconds.
    await writeAuthScript()
    const warming = quick ? introspect() : Promise.resolve(undefined)
    const elysia = await startServer(join(import.meta.dir, 'servers', 'elysia-hello.ts'))
    servers.push(elysia)
    await warming
    const references: Contender[] = []
    if (!quick) {
      // The ceilings the notes split the cost with: the framework alone, the kit alone, the Redis calls alone.
      const start = async (name: string) => {
        const server = await startServer(join(import.meta.dir, 'servers', name))
        servers.push(server)
        return server
      }
      const post = await start('elysia-post.ts')
      const kit = await start('kit-post.ts')
      const floor = await start('elysia-redis.ts')
      writeFileSync(
        script('post.lua'),
        `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ token: 'x'.repeat(600) })}'\nwrk.headers["Content-Type"] = "application/json"\n`,
      )
      references.push(
        { name: POST, run: () => wrk(SECONDS, `${post.url}/`, script('post.lua')) },
        { name: KIT, run: () => wrk(SECONDS, `${kit.url}/`, script('post.lua')) },
        { name: FLOOR, run: () => wrk(SECONDS, `${floor.url}/`, script('post.lua')) },
      )
    }
    const result = await compare({
      title: `HTTP, wrk 1 thread × ${CONNECTIONS} connections, ${SECONDS} s per round`,
      unit: 'requests/s',
      warmup: quick ? 0 : 1,
      contenders: [
        { name: AUTH, prepare: writeAuthScript, run: introspect },
        { name: ELYSIA, run: () => wrk(SECONDS, `${elysia.url}/`) },
        ...references,
      ],
    })
    const check = ratioTarget(result, {
      name: 'introspection ÷ Elysia JSON hello',
      contender: AUTH,
      baseline: ELYSIA,
      limit: 0.35,
    })
    return reportOf(
      result,
      ELYSIA,
      [check],
      [
        'Each server is its own `bun` process on a free port; wrk takes one thread, so on 2 cores the server and wrk each have about one. Introspection answers `active: true` for a live session: the service token (HMAC) and the access token (EdDSA) are checked — each verified once, then answered from the verified-token cache, since wrk repeats the same tokens as a client reusing its tokens does — the ip and per-user rate limits counted and the session read in Redis. Any non-2xx answer aborts the benchmark rather than counting errors as throughput.',
        PROFILE,
      ],
    )
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
