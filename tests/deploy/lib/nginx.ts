/** Runs docker/gateway/nginx.conf with services.conf and an env.conf, the way the images do, on a free port. */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceName } from '@flotilla/contracts'
import { testProcessEnv } from '@flotilla/streams/testing'
import { renderServicesConf } from '../../../docker/gateway/render.ts'
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
const waitForHttp = async (url: string, timeoutMs = 10_000): Promise<void> => {
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

/**
 * Starts nginx with the repository's gateway config; `upstreams` maps each service to a 127.0.0.1 base URL. The
 * services.conf it runs with is rendered as `bun run generate` renders the committed one, with these ports.
 */
export const startGateway = async (upstreams: Readonly<Record<ServiceName, string>>): Promise<Gateway> => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-gateway-'))
  const port = freePort()
  copyFileSync(join(ROOT, 'docker', 'gateway', 'nginx.conf'), join(dir, 'nginx.conf'))
  const ports = Object.fromEntries(
    Object.entries(upstreams).map(([name, url]) => {
      const parsed = new URL(url)
      if (parsed.hostname !== '127.0.0.1') throw new Error(`upstreams live on 127.0.0.1 here, not ${url}`)
      return [name, Number(parsed.port)]
    }),
  ) as Record<ServiceName, number>
  writeFileSync(join(dir, 'services.conf'), renderServicesConf(ports))
  const env = [`listen 127.0.0.1:${port};`, 'set $flotilla_upstream http://127.0.0.1:$flotilla_port;']
  writeFileSync(join(dir, 'env.conf'), `${env.join('\n')}\n`)
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
    { env: testProcessEnv(), stdout: 'ignore', stderr: 'pipe' },
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
