/** Stream and dead-letter key names, shared by every producer and consumer. */

/** The default stream every event goes to (`EVENTS_STREAM` overrides it). */
export const DEFAULT_EVENTS_STREAM = 'events'

/** Field names of one stream entry: `type` for cheap filtering, `event` for the JSON envelope. */
export const ENTRY_FIELDS = { type: 'type', event: 'event' } as const

/** The consumer groups of the four services. */
export const CONSUMER_GROUPS = ['auth', 'notifications', 'audit', 'analytics'] as const
export type ConsumerGroupName = (typeof CONSUMER_GROUPS)[number]

/**
 * The dead-letter stream of one group. The hash tag `{<stream>}` puts it in the same Redis Cluster
 * slot as the main stream (whose name hashes exactly like the tag), so the atomic move is one MULTI.
 * @example deadLetterStreamKey('events', 'audit') // '{events}:dlq:audit'
 */
export const deadLetterStreamKey = (stream: string, group: string): string => `{${stream}}:dlq:${group}`
