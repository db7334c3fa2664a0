/** Which tenant a caller may read: a service any tenant (or all), a user only the tenant of its token. */
import { forbidden, notFound } from '../errors/app-error.ts'
import type { Caller } from './types.ts'

/** The code of the 403 a user token without a tenant (`tid`) gets from a tenant-scoped route. */
export const TENANT_REQUIRED = 'TENANT_REQUIRED'

/**
 * The tenant filter of a request. A service reads the tenant it asks for, or every tenant when it names none
 * (`undefined`). A user reads its token's tenant only: asking for another one answers 404 (as if it did not
 * exist, so its existence is never confirmed), and a token bound to no tenant answers 403 `TENANT_REQUIRED`.
 * @example const tenantId = tenantScope(caller, query.tenantId) // undefined: a service reading every tenant
 */
export const tenantScope = (caller: Caller, requested: string | undefined): string | undefined => {
  if (caller.kind === 'service') return requested
  if (!caller.tenantId)
    throw forbidden('the access token is not bound to a tenant', { code: TENANT_REQUIRED })
  if (requested !== undefined && requested !== caller.tenantId)
    throw notFound(`tenant ${requested} not found`)
  return caller.tenantId
}
