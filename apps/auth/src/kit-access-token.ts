/**
 * The kit's access-token verifier, imported by path until `@flotilla/service-kit`'s index re-exports it
 * (then this file becomes `export … from '@flotilla/service-kit'`).
 */
export {
  ACCESS_TOKEN_TYPE,
  buildAttackTokens,
  createAccessTokenVerifier,
} from '../../../packages/service-kit/src/access-token/index.ts'
export type {
  AccessTokenVerifier,
  UserPrincipal,
} from '../../../packages/service-kit/src/access-token/index.ts'
