import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { flyAppOf } from '@flotilla/contracts'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'
import { readFlyConfig } from './lib/fly-config.ts'

describe.each(APPS.map((app) => [app.name, app] as const))('fly/%s.toml', (name, app) => {
  const config = readFlyConfig(name)

  it('names the Fly app flotilla-<app> and builds this app from the shared Dockerfile', () => {
    expect(config.app).toBe(`flotilla-${name}`)
    expect(config.build.args.APP).toBe(name)
    // flyctl resolves the dockerfile relative to the config file; the build context is the repository root.
    expect(existsSync(join(ROOT, 'fly', config.build.dockerfile))).toBe(true)
    expect(existsSync(join(ROOT, 'apps', name, 'package.json'))).toBe(true)
  })

  it("routes to the app's port when its /ready answers, and checks its /health for liveness", () => {
    expect(config.http_service.internal_port).toBe(app.port)
    expect(config.env.PORT).toBe(String(app.port))
    expect(config.metrics.port).toBe(app.port)
    expect(config.metrics.path).toBe('/metrics')
    // Fly's proxy routes only to machines passing the service checks: ready means Redis, store and consumer answer.
    expect(config.http_service.checks.map((c) => c.path)).toEqual(['/ready'])
    expect(Object.values(config.checks)).toContainEqual(
      expect.objectContaining({ type: 'http', port: app.port, path: '/health' }),
    )
    // The app documents the same default port in its .env.example, once it has one.
    const example = join(ROOT, 'apps', name, '.env.example')
    if (existsSync(example)) {
      const documented = readFileSync(example, 'utf8').match(/^#?\s*PORT=(\d+)/m)?.[1]
      if (documented) expect(Number(documented)).toBe(app.port)
    }
  })

  it('keeps consumer machines running and stops them with a signal the app handles', () => {
    expect(config.http_service.auto_stop_machines).toBe('off')
    expect(config.http_service.min_machines_running).toBeGreaterThanOrEqual(1)
    expect(['SIGTERM', 'SIGINT']).toContain(config.kill_signal)
    expect(config.kill_timeout).toBeGreaterThanOrEqual(10)
    expect(config.http_service.concurrency.soft_limit).toBeLessThan(
      config.http_service.concurrency.hard_limit,
    )
  })

  it('runs in production mode and keeps secrets out of [env]', () => {
    expect(config.env.NODE_ENV).toBe('production')
    for (const key of Object.keys(config.env)) expect(key).not.toMatch(/SECRET|KEY|TOKEN|PASSWORD/)
    expect(config.env.REDIS_URL).toBeUndefined()
    expect(config.raw).toContain(`fly secrets set --config fly/${name}.toml REDIS_URL=`)
    expect(config.raw).toContain(`fly secrets set --config fly/${name}.toml SERVICE_TOKEN_SECRET=`)
  })
})

describe('fly/gateway.toml', () => {
  const config = readFlyConfig('gateway')
  const listen = readFileSync(join(ROOT, 'docker', 'gateway', 'env', 'fly.conf'), 'utf8')

  it('builds the gateway image for Fly and checks the port and path nginx serves', () => {
    expect(config.app).toBe('flotilla-gateway')
    expect(config.build.args.GATEWAY_ENV).toBe('fly')
    expect(existsSync(join(ROOT, 'fly', config.build.dockerfile))).toBe(true)
    expect(listen).toContain(`listen ${config.http_service.internal_port};`)
    expect(config.http_service.checks.map((c) => c.path)).toEqual(['/health'])
    expect(config.kill_signal).toBe('SIGQUIT')
  })

  it('points at the Fly app of every service, named as fly/<service>.toml names it', () => {
    expect(listen).toContain(
      'set $flotilla_upstream http://flotilla-$flotilla_service.internal:$flotilla_port;',
    )
    for (const app of APPS) expect(readFlyConfig(app.name).app).toBe(flyAppOf(app.name))
  })
})
