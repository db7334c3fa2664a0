/** Runs one of the repo's scripts to completion in a test's environment and collects what it printed. */
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import { ROOT } from '../../../scripts/lib/apps.ts'

export interface ScriptResult {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

export interface RunScriptOptions {
  /** Added to the test environment (`NO_COLOR=1` is always set). */
  readonly env?: Record<string, string>
  /** Written to the script's stdin; without it stdin is closed. */
  readonly stdin?: string | undefined
}

/**
 * Runs `bun --no-env-file <script> …args` from the repo root.
 * @example const { stdout, code } = await runScript('scripts/ops.ts', ['token', 'audit'], { env: { REDIS_URL } })
 */
export const runScript = async (
  script: string,
  args: readonly string[],
  { env = {}, stdin }: RunScriptOptions = {},
): Promise<ScriptResult> => {
  const proc = Bun.spawn(bunCommand(script, ...args), {
    cwd: ROOT,
    env: testProcessEnv({ NO_COLOR: '1', ...env }),
    stdin: stdin === undefined ? 'ignore' : new Blob([stdin]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, code }
}
