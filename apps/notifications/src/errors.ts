/** Error codes of the notification service, for Swagger and clients; errors are the kit's `AppError`s. */
import { BEARER_SECURITY, COMMON_ERROR_CODES, defineErrorCodes, ErrorBody } from '@flotilla/service-kit'

export { ErrorBody }

export const ERRORS = defineErrorCodes({
  ...COMMON_ERROR_CODES,
  INVALID_TOKEN: 'missing, malformed or refused service token',
  INVALID_SIGNATURE: 'the webhook signature (Svix) is missing, stale or wrong: nothing was recorded',
  DELIVERY_NOT_RECORDED_YET:
    'a recent webhook names a message this service has not recorded yet (the provider retries it)',
  WEBHOOK_NOT_CONFIGURED: 'no webhook secret is configured (RESEND_WEBHOOK_SECRET)',
  NOT_FOUND: 'no such notification or template',
  TEMPLATE_DATA_INVALID:
    'the data misses or mistypes a variable the template declares (details name each one)',
  TEMPLATE_DATA_RESERVED:
    'the data sets a system variable (app, recipient, links, unsubscribe), which only the service fills in',
  TEMPLATE_CHANNEL_MISSING: 'the template has no content for a requested channel',
  NOT_CANCELLABLE:
    'every delivery of this request has already been sent or settled (details list them): nothing to cancel',
  INVALID_SETTINGS: 'an unknown time zone, or quiet hours for a recipient whose time zone is not known',
})
export const ERROR_CODES = ERRORS.codes
export type ErrorCode = keyof typeof ERROR_CODES

/** A markdown list of the error codes a route can answer with. */
export const errorList = ERRORS.errorList

/** Swagger security requirement of service-token routes. */
export const SERVICE_TOKEN = [{ [BEARER_SECURITY]: [] }]
