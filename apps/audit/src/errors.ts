/** Error codes of the audit service, for Swagger and clients; errors are the kit's `AppError`s. */
import { COMMON_ERROR_CODES, defineErrorCodes, ErrorBody } from '@flotilla/service-kit'

export { ErrorBody }

export const ERRORS = defineErrorCodes({
  ...COMMON_ERROR_CODES,
  INVALID_TOKEN: 'missing, malformed or refused service or user access token',
  INSUFFICIENT_SCOPE: 'the user access token lacks the audit:read scope',
  NOT_FOUND: 'another tenant than the user token’s own (its existence is never confirmed)',
  INVALID_TIME: 'from or to is not an ISO-8601 date-time',
  INVALID_RANGE: 'from is not before to',
})
export const ERROR_CODES = ERRORS.codes
export type ErrorCode = keyof typeof ERROR_CODES
