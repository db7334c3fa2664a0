/** Redis key names of the HyperLogLog sketches. */

/**
 * One HLL per (grain, bucket, type, tenant). The hash tag holds prefix and tenant, so a tenant's sketches
 * share a Redis Cluster slot and PFCOUNT / PFMERGE over many of them stays one-slot.
 */
export const hllKey = (
  prefix: string,
  grain: 'hour' | 'day',
  bucket: number,
  type: string,
  tenantId: string,
) => `${prefix}:{u:${tenantId}}:hll:${grain === 'hour' ? 'h' : 'd'}:${bucket}:${type}`

/** Set of daily sketches changed since they were last copied into libSQL (`<day>|<type>|<tenant>`). */
export const touchedKey = (prefix: string) => `${prefix}:hll:touched`

export const touchedMember = (day: number, type: string, tenantId: string) => `${day}|${type}|${tenantId}`

export const parseTouchedMember = (
  member: string,
): { day: number; type: string; tenantId: string } | undefined => {
  const first = member.indexOf('|')
  const second = member.indexOf('|', first + 1)
  if (first < 0 || second < 0) return undefined
  const day = Number(member.slice(0, first))
  if (!Number.isSafeInteger(day)) return undefined
  return { day, type: member.slice(first + 1, second), tenantId: member.slice(second + 1) }
}
