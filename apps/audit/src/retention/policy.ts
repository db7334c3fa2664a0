/** Retention policy: days to keep per tenant chain, with a default. 0 keeps records forever. */

export interface RetentionPolicy {
  readonly defaultDays: number
  readonly overrides: ReadonlyMap<string, number>
}

/**
 * Parses `tenantA:365,tenantB:7` into a map; throws naming the bad entry.
 * @example parseRetentionOverrides('acme:365,global:30')
 */
export const parseRetentionOverrides = (text: string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue
    const at = part.lastIndexOf(':')
    const tenant = part.slice(0, at).trim()
    const days = Number(part.slice(at + 1))
    if (at <= 0 || tenant === '' || !Number.isInteger(days) || days < 0) {
      throw new Error(`retention override "${part}" must look like "<tenant>:<days>" with whole days >= 0`)
    }
    out.set(tenant, days)
  }
  return out
}

/** Days to keep for one chain. */
export const retentionDaysFor = (policy: RetentionPolicy, chain: string): number =>
  policy.overrides.get(chain) ?? policy.defaultDays
