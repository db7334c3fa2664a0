/** Which tenant a caller may read: services any (or all), users their own token's tenant only. */
import { AppError, type Caller, notFound } from '@flotilla/service-kit'

/** Scope a user access token needs for the statistics API. */
export const READ_SCOPE = 'analytics:read'

/**
 * The tenant filter of a request. A user asking for another tenant gets 404 (no hint that it exists);
 * a user token without a tenant gets 403 `TENANT_REQUIRED`.
 */
export const tenantScope = (caller: Caller, requested: string | undefined): string | undefined => {
  if (caller.kind === 'service') return requested
  if (caller.tenantId === undefined) {
    throw new AppError(403, 'TENANT_REQUIRED', 'this access token is not bound to a tenant')
  }
  if (requested !== undefined && requested !== caller.tenantId)
    throw notFound('no statistics for this tenant')
  return caller.tenantId
}
