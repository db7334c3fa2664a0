/** Error codes of the analytics service, for Swagger and clients; errors are the kit's `AppError`s. */
import { COMMON_ERROR_CODES, defineErrorCodes, ErrorBody } from '@flotilla/service-kit'

export { ErrorBody }

export const ERRORS = defineErrorCodes({
  ...COMMON_ERROR_CODES,
  INSUFFICIENT_SCOPE: 'the user access token lacks the analytics:read scope',
  INVALID_RANGE: 'from or to is not an ISO-8601 timestamp with a zone, or from is not before to',
  RANGE_TOO_LONG: 'the range spans more days than this route allows (details.maxDays)',
  INVALID_INTERVAL: 'interval is not one this route accepts (details.allowed)',
  INVALID_TIME_ZONE: 'tz is not an IANA time zone this runtime knows',
  INVALID_WEEK_START: 'weekStart is not a weekday name (details.allowed)',
  INVALID_TYPE: 'type is not an event type, a prefix (user.*) or *',
  TOO_MANY_POINTS: 'the range holds more buckets than one answer may (pick a coarser interval)',
})
export const ERROR_CODES = ERRORS.codes
export type ErrorCode = keyof typeof ERROR_CODES
