/**
 * Packages one app the way its image ships it: `bun build --compile` of `apps/<app>/src/main.ts` into
 * `<out>/server`, plus the native addons the compiler cannot embed, staged under `<out>/node_modules`, and
 * `<out>/service.json` (the app's name and default port, from the service list) for the health probe.
 * The Dockerfile runs this script and so does tests/deploy/compiled.test.ts, so the test runs what the image runs.
 *
 *   bun docker/package-app.ts <app> <out-dir>
 *
 * Why the staging: `@libsql/client` loads its addon with a computed `require("@libsql/<platform>")`, which
 * `bun build --compile` leaves out; the binary then fails with "Cannot find module '@libsql/linux-x64-gnu'".
 * The image sets NODE_PATH=<out>/node_modules so the addon resolves whatever the working directory is.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { isServiceName, SERVICE_NAMES, SERVICES } from '@flotilla/contracts'

const ROOT = join(import.meta.dir, '..')

/** Written beside the binary: the health probe reads the app's default port from it. */
export const SERVICE_FILE = 'service.json'

/** The directory of the native addon an app needs beside its binary, if any (today: libSQL's). */
export const nativeAddon = (appDir: string): string | undefined => {
  const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
  }
  if (!manifest.dependencies?.['@libsql/client']) return undefined
  // @libsql/client → libsql → @libsql/<platform>-<arch>-gnu (glibc: the runtime image is Debian).
  const client = dirname(Bun.resolveSync('@libsql/client/package.json', appDir))
  const libsql = dirname(Bun.resolveSync('libsql/package.json', client))
  const addon = `@libsql/${process.platform}-${process.arch}-gnu`
  return dirname(Bun.resolveSync(`${addon}/package.json`, libsql))
}

/**
 * Compiles one entry point to a single binary the way an app is compiled (the benchmarks compile their hello
 * baselines with it too, so the two differ only in what they run). `quiet`: the compiler's progress not printed.
 */
export const compileBinary = (entry: string, binary: string, { quiet = false }: { quiet?: boolean } = {}) => {
  const build = Bun.spawnSync(
    ['bun', 'build', '--compile', '--minify', '--sourcemap', entry, '--outfile', binary],
    {
      cwd: ROOT,
      stdout: quiet ? 'ignore' : 'inherit',
      stderr: 'inherit',
    },
  )
  if (build.exitCode !== 0)
    throw new Error(`bun build --compile failed for ${entry} (exit ${build.exitCode})`)
  return binary
}

/** Where a packaged app's native addons are staged (the image's NODE_PATH). */
export const addonsDir = (outDir: string) => join(resolve(outDir), 'node_modules')

/** Compiles the app and stages its addons; returns the binary path. */
export const packageApp = async (
  app: string,
  outDir: string,
  { quiet = false }: { quiet?: boolean } = {},
): Promise<string> => {
  if (!isServiceName(app)) throw new Error(`unknown app "${app}" (one of ${SERVICE_NAMES.join(', ')})`)
  const appDir = join(ROOT, 'apps', app)
  const entry = join(appDir, 'src', 'main.ts')
  if (!existsSync(entry)) throw new Error(`${entry} does not exist yet`)
  const out = resolve(outDir)
  mkdirSync(out, { recursive: true })
  const binary = compileBinary(entry, join(out, 'server'), { quiet })
  const addon = nativeAddon(appDir)
  if (addon) {
    const target = join(addonsDir(out), '@libsql', addon.split('/').pop()!)
    mkdirSync(dirname(target), { recursive: true })
    cpSync(addon, target, { recursive: true, dereference: true })
  }
  writeFileSync(join(out, SERVICE_FILE), `${JSON.stringify({ name: app, port: SERVICES[app].port })}\n`)
  return binary
}

if (import.meta.main) {
  const [app, outDir] = process.argv.slice(2)
  if (!app || !outDir) {
    console.error('usage: bun docker/package-app.ts <app> <out-dir>')
    process.exit(2)
  }
  const binary = await packageApp(app, outDir)
  console.log(`packaged ${app} → ${binary}`)
}
