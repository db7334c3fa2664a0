/** The principal and verifier shapes, defined once in the kit's `auth/` (re-exported for this folder). */
export type { AccessTokenVerifier, UserPrincipal } from '../auth/types.ts'
