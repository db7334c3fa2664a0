/** A private `redis-server` per scenario: random free port, temp dir, killed and restarted for real. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testProcessEnv } from '@flotilla/streams/testing'
import type { Subprocess } from 'bun'

/** A port free right now (the OS picks it; a tiny race with other processes is accepted). */
export const freePort = (): number => {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

/** `aof`: appendonly, fsync every second. `none`: nothing survives a restart. */
export type Persistence = 'aof' | 'none'

export interface PrivateRedis {
  readonly url: string
  readonly port: number
  readonly pid: () => number
  /** Sends a signal to the server process (SIGKILL, SIGSTOP, SIGCONT…). */
  signal(signal: NodeJS.Signals): void
  /** SIGKILL, wait for the exit. */
  kill(): Promise<void>
  /** Starts the server again on the same port and directory (after `kill`). */
  start(): Promise<void>
  /** Sends one command over a raw socket and returns the reply text (for INFO, CLIENT KILL, PING). */
  command(...args: string[]): Promise<string>
  /** Kills the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>
}

const resp = (args: readonly string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

/** One command on a fresh TCP connection; resolves with the raw reply once it looks complete. */
const rawCommand = (port: number, args: readonly string[], timeoutMs = 2000): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ''
    let done = false
    const finish = (error?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (error) reject(error)
      else resolve(text)
    }
    const timer = setTimeout(() => finish(new Error(`redis on ${port}: no reply to ${args[0]}`)), timeoutMs)
    const complete = () => {
      if (!text.endsWith('\r\n')) return false
      if (text[0] !== '$') return true
      const header = text.indexOf('\r\n')
      return text.length >= header + 2 + Number(text.slice(1, header)) + 2
    }
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(socket) {
          socket.write(resp(args))
        },
        data(socket, chunk) {
          text += chunk.toString()
          if (complete()) {
            // Settle first: end() fires close() synchronously.
            finish()
            socket.end()
          }
        },
        error(_socket, error) {
          finish(error)
        },
        close() {
          finish(new Error(`redis on ${port}: connection closed`))
        },
        connectError(_socket, error) {
          finish(error)
        },
      },
    }).catch((error: Error) => finish(error))
  })

/** Starts `redis-server` (with `extraArgs`, e.g. cluster mode) and waits until it answers PING (AOF loaded). */
export const startPrivateRedis = async (
  persistence: Persistence,
  extraArgs: readonly string[] = [],
): Promise<PrivateRedis> => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-fault-redis-'))
  const port = freePort()
  const args = [
    'redis-server',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    persistence === 'aof' ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--logfile',
    join(dir, 'redis.log'),
    // Big entries (the 10 MB poison message) and many clients are part of the tests.
    '--proto-max-bulk-len',
    '64mb',
    ...extraArgs,
  ]
  let proc: Subprocess | undefined
  let stopped = false

  const waitReady = async () => {
    const deadline = Date.now() + 15_000
    for (;;) {
      const reply = await rawCommand(port, ['PING'], 500).catch(() => '')
      if (reply.startsWith('+PONG')) return
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not become ready`)
      await Bun.sleep(50)
    }
  }

  const start = async () => {
    proc = Bun.spawn(args, { env: testProcessEnv(), stdout: 'ignore', stderr: 'ignore' })
    await waitReady()
  }

  const kill = async () => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGCONT')
    proc.kill('SIGKILL')
    await proc.exited
  }

  try {
    await start()
  } catch (error) {
    // Never leave a half-started server or its directory behind.
    await kill()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: () => proc?.pid ?? 0,
    signal: (signal) => proc?.kill(signal),
    kill,
    start,
    command: (...cmd) => rawCommand(port, cmd),
    async stop() {
      if (stopped) return
      stopped = true
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
