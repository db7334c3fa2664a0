/**
 * The service list, written once: every Flotilla service with its default port, its consumer group and what it
 * consumes. Consumer groups, default ports and URLs, the stack and ops scripts, the AsyncAPI document, the Docker
 * packaging, the gateway and the e2e fixtures all read it; each app's declaration is checked against it.
 */
import type { EventType } from './catalog.ts'

/** What a service's consumer group takes: listed event types, or every event on the stream. */
export type Consumes = 'every event' | readonly EventType[]

export interface ServiceInfo {
  /** Default `PORT`; also the port other services dial on Fly's private network. */
  readonly port: number
  /** One line for the README, the AsyncAPI document and `bun run start`. */
  readonly summary: string
  /** The event types this service's group handles; the group is named after the service. */
  readonly consumes: Consumes
  /** Pages `bun run start` prints, relative to the service's base URL. */
  readonly pages: readonly { readonly label: string; readonly path: string }[]
}

const service = (info: ServiceInfo) => info

export const SERVICES = {
  auth: service({
    port: 3001,
    summary: 'sessions, devices, token checks',
    consumes: ['user.password.changed', 'user.deleted'],
    pages: [{ label: 'Swagger', path: '/swagger' }],
  }),
  notifications: service({
    port: 3002,
    summary: 'templates → email / SMS / push',
    consumes: [
      'notification.requested',
      'user.registered',
      'user.profile.updated',
      'auth.device.added',
      'auth.refresh.reused',
    ],
    pages: [
      { label: 'Swagger', path: '/swagger' },
      { label: 'email outbox', path: '/v1/outbox' },
    ],
  }),
  audit: service({
    port: 3003,
    summary: 'append-only, searchable, exportable, tamper-evident log',
    consumes: 'every event',
    pages: [{ label: 'Swagger', path: '/swagger' }],
  }),
  analytics: service({
    port: 3004,
    summary: 'time-series counts, uniques, rollups',
    consumes: 'every event',
    pages: [
      { label: 'Swagger', path: '/swagger' },
      { label: 'dashboard', path: '/dashboard' },
    ],
  }),
} as const satisfies Record<string, ServiceInfo>

export type ServiceName = keyof typeof SERVICES

/** The services in their fixed order (ports ascending). */
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[]

/** True for a name in the service list. */
export const isServiceName = (name: string): name is ServiceName => Object.hasOwn(SERVICES, name)

/** The groups that consume `type` with a handler of their own (every-event groups are not listed). */
export const consumersOf = (type: string): ServiceName[] =>
  SERVICE_NAMES.filter((name) => {
    const consumes: Consumes = SERVICES[name].consumes
    return consumes !== 'every event' && (consumes as readonly string[]).includes(type)
  })

/** The groups that take every event on the stream (audit, analytics). */
export const EVERY_EVENT_CONSUMERS: readonly ServiceName[] = SERVICE_NAMES.filter(
  (name) => SERVICES[name].consumes === 'every event',
)

/** The environment variable other processes read to find a service (`AUTH_URL`). */
export const urlVariableOf = (name: ServiceName): string => `${name.toUpperCase()}_URL`

/** The Fly app of a service (`flotilla-auth`); its private name is `<app>.internal`. */
export const flyAppOf = (name: ServiceName): string => `flotilla-${name}`
