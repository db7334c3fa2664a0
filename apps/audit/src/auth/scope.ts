/** The scope a user's access token needs to read audit records (the tenant rule is the kit's `tenantScope`). */
export const AUDIT_READ_SCOPE = 'audit:read'
