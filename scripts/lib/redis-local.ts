/** Finds a Redis at REDIS_URL, or starts a local redis-server for the stack when none answers. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './apps.ts'
import { bold } from './term.ts'

/** True when something at `url` answers PING within `timeoutMs`. */
export const redisAnswers = async (url: string, timeoutMs = 1000): Promise<boolean> => {
  const client = new Bun.RedisClient(url, {
    connectionTimeout: timeoutMs,
    autoReconnect: false,
    maxRetries: 0,
  })
  try {
    const reply = await Promise.race([client.ping(), Bun.sleep(timeoutMs).then(() => 'timeout')])
    return reply === 'PONG'
  } catch {
    return false
  } finally {
    client.close()
  }
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** How to get a Redis, for the message printed when there is none and none can be started. */
export const HOW_TO_GET_REDIS = [
  `  Debian/Ubuntu:  ${bold('sudo apt-get install -y redis-server')}   (then run ${bold('bun run start')} again: it starts it for you)`,
  `  macOS:          ${bold('brew install redis')}`,
  `  Docker:         ${bold('docker run -d --name flotilla-redis -p 6379:6379 redis:7')}`,
  `  Elsewhere:      set ${bold('REDIS_URL')} to a Redis 7 you can reach (Upstash works: rediss://…)`,
].join('\n')

export interface LocalRedis {
  readonly proc: ReturnType<typeof Bun.spawn>
  readonly dataDir: string
}

/**
 * Starts `redis-server` on the URL's port with append-only persistence under `.data/redis`, or returns a
 * reason it cannot: the URL is not local, or redis-server is not installed.
 */
export const startLocalRedis = async (url: string): Promise<LocalRedis | { reason: string }> => {
  const parsed = new URL(url)
  if (!LOCAL_HOSTS.has(parsed.hostname)) return { reason: `${parsed.hostname} is not this machine` }
  const binary = Bun.which('redis-server')
  if (!binary) return { reason: 'redis-server is not installed' }
  const dataDir = join(ROOT, '.data', 'redis')
  mkdirSync(dataDir, { recursive: true })
  const port = parsed.port || '6379'
  const proc = Bun.spawn(
    [binary, '--port', port, '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--save', ''],
    // Own process group: Ctrl-C reaches only the stack, which stops the apps first and Redis last.
    { stdout: 'pipe', stderr: 'pipe', detached: true },
  )
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url, 200)) return { proc, dataDir }
    if (proc.exitCode !== null) break
    await Bun.sleep(100)
  }
  proc.kill('SIGKILL')
  const output = await new Response(proc.stdout).text()
  return { reason: `redis-server did not come up:\n${output.split('\n').slice(-5).join('\n')}` }
}
