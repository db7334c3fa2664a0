/** Stream and dead-letter key names, shared by every producer and consumer. */
import { SERVICE_NAMES, type ServiceName } from './services.ts'

/** The default stream every event goes to (`EVENTS_STREAM` overrides it). */
export const DEFAULT_EVENTS_STREAM = 'events'

/** Field names of one stream entry: `type` for cheap filtering, `event` for the JSON envelope. */
export const ENTRY_FIELDS = { type: 'type', event: 'event' } as const

/** The consumer groups: one per service, named after it (the service list in `services.ts`). */
export const CONSUMER_GROUPS: readonly ServiceName[] = SERVICE_NAMES
export type ConsumerGroupName = ServiceName

/**
 * The dead-letter stream of one group. The hash tag `{<stream>}` puts it in the same Redis Cluster
 * slot as the main stream (whose name hashes exactly like the tag), so the atomic move is one MULTI.
 * @example deadLetterStreamKey('events', 'audit') // '{events}:dlq:audit'
 */
export const deadLetterStreamKey = (stream: string, group: string): string => `{${stream}}:dlq:${group}`
