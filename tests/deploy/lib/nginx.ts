/** Runs docker/gateway/nginx.conf with a generated env.conf, the way the images do, on a free port. */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../../../scripts/lib/apps.ts'

export interface Gateway {
  readonly url: string
  stop(): Promise<void>
}

/** A port nothing listens on right now. */
export const freePort = (): number => {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

/** Waits until `url` answers at all (any status), or throws after `timeoutMs`. */
export const waitForHttp = async (url: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${error}`)
      await Bun.sleep(50)
    }
  }
}

/** Starts nginx with the repository's gateway config; `upstreams` maps app name → base URL. */
export const startGateway = async (upstreams: Record<string, string>): Promise<Gateway> => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-gateway-'))
  const port = freePort()
  copyFileSync(join(ROOT, 'docker', 'gateway', 'nginx.conf'), join(dir, 'nginx.conf'))
  const lines = [`listen 127.0.0.1:${port};`]
  for (const [app, url] of Object.entries(upstreams)) lines.push(`set $flotilla_${app} ${url};`)
  writeFileSync(join(dir, 'env.conf'), `${lines.join('\n')}\n`)
  const proc = Bun.spawn(
    [
      'nginx',
      '-e',
      'stderr',
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-g',
      `pid ${dir}/nginx.pid; daemon off;`,
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/health`)
  } catch (error) {
    proc.kill('SIGKILL')
    throw new Error(`nginx did not start: ${await new Response(proc.stderr).text()} (${error})`)
  }
  return {
    url,
    stop: async () => {
      proc.kill('SIGQUIT') // graceful: finish open requests
      await proc.exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
