/**
 * Runs every benchmark (or the named ones: `bun run bench drain publish`) and writes docs/benchmarks.md.
 * Each benchmark owns a section between markers, so a partial run replaces only its own sections.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import { describeEnvironment } from './lib/environment.ts'
import { REDIS_URL } from './lib/redis.ts'

type Report = () => Promise<string>

/** In run order; each is `bench/<name>.ts`, whose `report()` returns its markdown section. */
const BENCHMARKS: readonly string[] = [
  'publish',
  'drain',
  'versions',
  'fanout',
  'latency',
  'access-token',
  'revocation',
  'introspection',
  'audit',
  'analytics',
  'notifications',
  'replicas',
  'memory',
  'cold-start',
]
/** Imported lazily: one failing import stays one failed section. */
const benchmark = (name: string) => import(`./${name}.ts`) as Promise<{ report: Report }>

const DOC = join(import.meta.dir, '..', 'docs', 'benchmarks.md')
const begin = (name: string) => `<!-- bench:${name} -->`
const end = (name: string) => `<!-- /bench:${name} -->`

const requested = process.argv.slice(2)
const unknown = requested.filter((n) => !BENCHMARKS.includes(n))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`)
  process.exit(2)
}
const names = requested.length > 0 ? requested : BENCHMARKS

const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
const redisVersion = async () => {
  try {
    await redis.connect()
    const info = (await redis.info('server')) as string
    return info.match(/redis_version:(\S+)/)?.[1] ?? 'unknown'
  } catch {
    return 'unreachable'
  } finally {
    redis.disconnect()
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')
const loadBefore = load()
const environment = await describeEnvironment(redisVersion)
const started = performance.now()
const sections = new Map<string, string>()
for (const name of names) {
  console.log(`\n## ${name}`)
  const t0 = performance.now()
  let body: string
  try {
    body = await (await benchmark(name)).report()
  } catch (error) {
    body = `### ${name}\n\nThe benchmark failed in this run: \`${error instanceof Error ? error.message : String(error)}\`.`
    console.error(error)
  }
  const took = ((performance.now() - t0) / 1000).toFixed(0)
  console.log(body)
  sections.set(
    name,
    `${begin(name)}\n${body}\n\n_(${name}: ${took} s, ${new Date().toISOString()})_\n${end(name)}`,
  )
}

const header = `# Benchmarks

Written by \`bun run bench\` (\`bench/run.ts\`); do not edit by hand. One benchmark: \`bun run bench drain\`, or
\`bun bench/<name>.ts\` to print it without touching this file. Every benchmark runs its candidate and its
baselines alternately (A B A B …) after a warm-up, at least 5 rounds, and reports the median, the min–max and
the **ratio** to a baseline: on a shared 2-core machine the absolute numbers mean little, the ratios more.
Nothing here is a test; nothing asserts a time.

${environment}
- load average (1/5/15 min) at start: ${loadBefore}; at the end: ${load()} — above ~1, other work shared the
  2 cores and widened the spreads; the ratios compare contenders that ran interleaved.
- last full or partial run took ${((performance.now() - started) / 1000 / 60).toFixed(1)} min (${names.join(', ')})
`

// Keep sections of benchmarks not run this time; replace the ones that ran.
const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : ''
const out: string[] = [header]
for (const name of BENCHMARKS) {
  const fresh = sections.get(name)
  if (fresh) {
    out.push(fresh)
    continue
  }
  const from = previous.indexOf(begin(name))
  const to = previous.indexOf(end(name))
  if (from >= 0 && to > from) out.push(previous.slice(from, to + end(name).length))
}
writeFileSync(DOC, `${out.join('\n\n')}\n`)
console.log(`\nwrote ${DOC}`)
process.exit(0)
