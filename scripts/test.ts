/**
 * The test command (`bun run test`): runs each workspace's suite in its own `bun test` process, so one
 * crash cannot hide another suite's results, then prints one closing line `N passed, N failed, N skipped`.
 * Pass paths to run only those (`bun run test apps/auth`), or `--skip <path>` to leave a suite out
 * (`bun run test --skip tests/fault`).
 *
 * Each suite sees only what `testProcessEnv` passes through (PATH, HOME, the infrastructure variables such as
 * `REDIS_URL`), never the caller's app settings, and `bun test` runs with `--no-env-file`, so neither an exported
 * variable nor a `.env` in the working tree changes a result.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'

const root = join(import.meta.dir, '..')
const SUITE_DIRS = ['packages', 'apps', 'examples']
// Workspaces at the root that hold tests of their own (the benchmark harness's arithmetic).
const ROOT_SUITES = ['bench']
// Cross-service suites run last: they start the apps as processes (node-sdk: builds, packs, runs Node;
// cluster: the e2e flows, a fault subset and /ready on Redis Cluster, skipped visibly without REDIS_CLUSTER_URL).
const CROSS_SERVICE = [
  'tests/deploy',
  'tests/e2e',
  'tests/replicas',
  'tests/fault',
  'tests/security',
  'tests/node-sdk',
  'tests/cluster',
]
// Per-test limit: these suites talk to real Redis, PostgreSQL and child processes on a shared 2-core machine.
const TEST_TIMEOUT_MS = '60000'

const hasTests = async (dir: string): Promise<boolean> => {
  const glob = new Bun.Glob('**/*.test.ts')
  for await (const file of glob.scan({ cwd: join(root, dir) }))
    if (!file.includes('node_modules')) return true
  return false
}

const { values: options, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { skip: { type: 'string', multiple: true, default: [] } },
  allowPositionals: true,
})
const skipped = new Set(options.skip.map((path) => path.replace(/^\.\//, '').replace(/\/$/, '')))

const suites = async (): Promise<string[]> => {
  if (positionals.length > 0) return positionals
  const found: string[] = []
  for (const parent of SUITE_DIRS) {
    const entries = await readdir(join(root, parent), { withFileTypes: true }).catch(() => [])
    for (const e of entries)
      if (e.isDirectory() && (await hasTests(`${parent}/${e.name}`))) found.push(`${parent}/${e.name}`)
  }
  for (const dir of ROOT_SUITES) if (await hasTests(dir)) found.push(dir)
  for (const dir of CROSS_SERVICE) if (await hasTests(dir).catch(() => false)) found.push(dir)
  return found.filter((suite) => !skipped.has(suite))
}

interface Tally {
  suite: string
  pass: number
  fail: number
  skip: number
  exitCode: number
  seconds: number
}

const count = (text: string, word: string) =>
  Number(text.match(new RegExp(`^\\s*(\\d+) ${word}$`, 'm'))?.[1] ?? 0)

const run = async (suite: string): Promise<Tally> => {
  const started = performance.now()
  console.log(`\n━━ ${suite}`)
  const proc = Bun.spawn(bunCommand('test', '--timeout', TEST_TIMEOUT_MS, `./${suite}`), {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
    env: testProcessEnv(),
  })
  let summary = ''
  // bun test writes results to stderr; echo both streams and keep the tail for the summary.
  const pump = async (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
    const decoder = new TextDecoder()
    const reader = stream.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const text = decoder.decode(r.value, { stream: true })
      out.write(text)
      summary = (summary + text).slice(-4000)
    }
  }
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)])
  const exitCode = await proc.exited
  const tally = {
    suite,
    pass: count(summary, 'pass'),
    fail: count(summary, 'fail'),
    skip: count(summary, 'skip') + count(summary, 'todo'),
    exitCode,
    seconds: (performance.now() - started) / 1000,
  }
  // A suite that crashed before printing its summary counts as one failure, never as nothing.
  if (exitCode !== 0 && tally.fail === 0) tally.fail = 1
  return tally
}

const results: Tally[] = []
for (const suite of await suites()) results.push(await run(suite))
if (skipped.size > 0) console.log(`\n(left out on request: ${[...skipped].join(', ')})`)

console.log('\n━━ summary')
for (const r of results) {
  const mark = r.fail > 0 ? '✗' : '✓'
  console.log(
    `${mark} ${r.suite.padEnd(28)} ${String(r.pass).padStart(5)} passed ${String(r.fail).padStart(3)} failed ${String(r.skip).padStart(3)} skipped  ${r.seconds.toFixed(1)}s`,
  )
}
const total = (k: 'pass' | 'fail' | 'skip') => results.reduce((n, r) => n + r[k], 0)
console.log(`${total('pass')} passed, ${total('fail')} failed, ${total('skip')} skipped`)
process.exit(total('fail') > 0 ? 1 : 0)
