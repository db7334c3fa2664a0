/** Error codes of the audit service, for Swagger and clients; errors are the kit's `AppError`s. */
import { COMMON_ERROR_CODES, defineErrorCodes, ErrorBody } from '@flotilla/service-kit'

export { ErrorBody }

export const ERRORS = defineErrorCodes({
  ...COMMON_ERROR_CODES,
  INSUFFICIENT_SCOPE: 'the user access token lacks the audit:read scope',
  INVALID_TIME: 'from or to is not an ISO-8601 date-time',
  INVALID_RANGE: 'from is not before to',
  INVALID_GROUP_BY: 'groupBy names a dimension twice',
})
export const ERROR_CODES = ERRORS.codes
export type ErrorCode = keyof typeof ERROR_CODES

/** The codes every read route shares: the caller's token, scope and tenant, and the query schema. */
export const READ_ERRORS = [
  'INVALID_TOKEN',
  'INSUFFICIENT_SCOPE',
  'TENANT_REQUIRED',
  'NOT_FOUND',
  'VALIDATION_FAILED',
] as const satisfies readonly ErrorCode[]
