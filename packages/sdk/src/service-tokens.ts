/** Minting service tokens for calls from the monolith to the services. */
import { createServiceTokenSigner, parseKeyRing, type ServiceTokenSigner } from '@flotilla/contracts'
import type { FlotillaConfig } from './config.ts'

/**
 * A signer of short-lived service tokens (HS256, issuer = `SERVICE_NAME`) from the parsed config; sign one per
 * call with the target as audience.
 * @example const token = await createServiceTokens(config).sign({ audience: 'auth' })
 */
export const createServiceTokens = (
  config: Pick<FlotillaConfig, 'SERVICE_TOKEN_SECRET' | 'SERVICE_NAME'>,
): ServiceTokenSigner =>
  createServiceTokenSigner(parseKeyRing(config.SERVICE_TOKEN_SECRET), config.SERVICE_NAME)
