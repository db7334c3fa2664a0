import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'

interface ComposeService {
  build?: { context: string; dockerfile: string; args?: Record<string, string> }
  environment?: Record<string, string>
  stop_grace_period?: string
}

const compose = Bun.YAML.parse(readFileSync(join(ROOT, 'docker', 'compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>
}
const gatewayEnv = readFileSync(join(ROOT, 'docker', 'gateway', 'env', 'compose.conf'), 'utf8')

describe('docker/compose.yml', () => {
  it('runs redis, mongo, the gateway and every app, with a trace viewer behind a profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['analytics', 'audit', 'auth', 'gateway', 'jaeger', 'mongo', 'notifications', 'redis'].sort(),
    )
    expect((compose.services.jaeger as { profiles?: string[] }).profiles).toEqual(['tracing'])
  })

  it.each(APPS.map((a) => [a.name, a] as const))(
    'builds %s from docker/Dockerfile on its port',
    (name, app) => {
      const service = compose.services[name]!
      expect(service.build?.dockerfile).toBe('docker/Dockerfile')
      expect(service.build?.args?.APP).toBe(name)
      expect(existsSync(join(ROOT, 'docker', service.build!.context, service.build!.dockerfile))).toBe(true)
      expect(service.environment?.PORT).toBe(String(app.port))
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379')
      expect(service.stop_grace_period).toBe('30s')
      // The gateway's compose env file reaches each service by its compose name and its port from the list.
      expect(gatewayEnv).toContain('set $flotilla_upstream http://$flotilla_service:$flotilla_port;')
    },
  )
})
