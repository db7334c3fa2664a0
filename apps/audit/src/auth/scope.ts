/** Which tenant a caller may read: services any, a user with `audit:read` only their own. */
import { type Caller, forbidden, notFound } from '@flotilla/service-kit'

/** The scope a user's access token needs to read audit records. */
export const AUDIT_READ_SCOPE = 'audit:read'

/**
 * The tenant a request may read. Services read any tenant (or every tenant when none is asked for);
 * users read their own tenant only, and asking for another one answers 404, as if it did not exist.
 */
export const tenantScope = (caller: Caller, requested: string | undefined): string | undefined => {
  if (caller.kind === 'service') return requested
  if (!caller.tenantId) throw forbidden('the access token names no tenant', { code: 'NO_TENANT' })
  if (requested !== undefined && requested !== caller.tenantId)
    throw notFound(`tenant ${requested} not found`)
  return caller.tenantId
}
