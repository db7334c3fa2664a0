/** Scope a user access token needs for the statistics API (the tenant rule is the kit's `tenantScope`). */
export const READ_SCOPE = 'analytics:read'
