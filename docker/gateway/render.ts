/**
 * Writes docker/gateway/services.conf from the service list: which path prefix belongs to which service, and its
 * port. nginx.conf routes through these maps, so a new service needs no edit to the gateway config.
 *
 *   bun docker/gateway/render.ts        (also run by `bun run generate`)
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SERVICE_NAMES, SERVICES, type ServiceName } from '@flotilla/contracts'

/** The generated file's path. */
export const SERVICES_CONF = join(import.meta.dir, 'services.conf')

/** The nginx maps for these services and ports (tests render it with the ports of their stand-ins). */
export const renderServicesConf = (ports: Readonly<Record<ServiceName, number>>): string => {
  const names = SERVICE_NAMES
  const width = Math.max(...names.map((n) => n.length))
  return [
    '# Generated from packages/contracts/src/services.ts by docker/gateway/render.ts (`bun run generate`).',
    '# Do not edit: tests/deploy/gateway.test.ts fails when it is stale.',
    '',
    '# The service that owns the first path segment of the request as sent (before any rewrite).',
    'map $request_uri $flotilla_service {',
    '  default "";',
    ...names.map((n) => `  ~^/${n}(/|\\?|$) ${n};`),
    '}',
    '',
    "# The service's port (its default PORT).",
    'map $flotilla_service $flotilla_port {',
    '  default "";',
    ...names.map((n) => `  ${n.padEnd(width)} ${ports[n]};`),
    '}',
    '',
    '# For the 404 of a path no service owns.',
    `map $flotilla_service $flotilla_services { default "${names.map((n) => `/${n}/`).join(', ')}"; }`,
    '',
  ].join('\n')
}

/** The ports of the service list. */
export const defaultPorts = (): Record<ServiceName, number> =>
  Object.fromEntries(SERVICE_NAMES.map((n) => [n, SERVICES[n].port])) as Record<ServiceName, number>

if (import.meta.main) {
  writeFileSync(SERVICES_CONF, renderServicesConf(defaultPorts()))
  console.log(`wrote ${SERVICES_CONF}`)
}
