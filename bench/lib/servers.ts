/** Benchmark servers as child processes: each prints one JSON line (with its `port`) once listening. */
import type { Subprocess } from 'bun'

export interface ServerProcess<T> {
  readonly info: T & { port: number }
  readonly url: string
  stop(): Promise<void>
}

/** Spawns `bun <script>` (or a command, e.g. a compiled binary) and waits for its first stdout line. */
export const startServer = async <T extends object = object>(
  script: string | readonly string[],
  env: Record<string, string> = {},
): Promise<ServerProcess<T>> => {
  const command = typeof script === 'string' ? ['bun', script] : [...script]
  const proc: Subprocess<'ignore', 'pipe', 'inherit'> = Bun.spawn(command, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, ...env },
  })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${command.join(' ')} exited before it was ready (code ${await proc.exited})`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const info = JSON.parse(text.slice(0, text.indexOf('\n'))) as T & { port: number }
  return {
    info,
    url: `http://127.0.0.1:${info.port}`,
    async stop() {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}
