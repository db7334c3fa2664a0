/** User access-token verification (JWKS), for the kit's index to re-export. */

export type { AttackToken, AttackTokenOptions } from './attack-tokens.ts'
export { buildAttackTokens } from './attack-tokens.ts'
export type { AccessTokenKeyResolver, AccessTokenKeySource, AccessTokenVerifierOptions } from './verifier.ts'
export {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  createAccessTokenVerifier,
  KID_PATTERN,
  REQUIRED_ACCESS_TOKEN_CLAIMS,
} from './verifier.ts'
