/** Which counters a query reads: tenant, type (exact, or a `prefix.*`) and source. */
import { type SQL, sql } from 'drizzle-orm'

export interface CountFilter {
  /** Exact tenant; omitted = every tenant. `''` = events without a tenant. */
  readonly tenantId?: string
  /** `user.registered` (exact), `user.*` (prefix) or `*` / omitted (every type). */
  readonly type?: string
  readonly source?: string
}

/** Pattern of the `type` query parameter. */
export const TYPE_FILTER_PATTERN = '^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$'

/** SQL conditions (joined with AND) for a filter; column names are those of `counts`. */
export const filterSql = (f: CountFilter): SQL[] => {
  const out: SQL[] = []
  if (f.tenantId !== undefined) out.push(sql`tenant_id = ${f.tenantId}`)
  if (f.source !== undefined) out.push(sql`source = ${f.source}`)
  if (f.type !== undefined && f.type !== '*') {
    if (f.type.endsWith('.*')) {
      // A range on the primary-key column instead of LIKE ('_' is a LIKE wildcard); '/' sorts right after '.'.
      const prefix = f.type.slice(0, -1)
      out.push(sql`type >= ${prefix} AND type < ${`${prefix.slice(0, -1)}/`}`)
    } else out.push(sql`type = ${f.type}`)
  }
  return out
}
