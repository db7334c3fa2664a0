/** Error codes of the notification service, for Swagger and clients; errors are the kit's `AppError`s. */
import { BEARER_SECURITY } from '@flotilla/service-kit'
import { t } from 'elysia'

export const ERROR_CODES = {
  INVALID_CURSOR:
    'the cursor is not a nextCursor this API issued (malformed, of another version, or altered)',
  INVALID_TOKEN: 'missing, malformed or refused service token',
  INVALID_SIGNATURE: 'the webhook signature (Svix) is missing, stale or wrong: nothing was recorded',
  DELIVERY_NOT_RECORDED_YET:
    'a recent webhook names a message this service has not recorded yet (the provider retries it)',
  WEBHOOK_NOT_CONFIGURED: 'no webhook secret is configured (RESEND_WEBHOOK_SECRET)',
  NOT_FOUND: 'no such notification or template',
  TEMPLATE_DATA_INVALID:
    'the data misses or mistypes a variable the template declares (details name each one)',
  TEMPLATE_CHANNEL_MISSING: 'the template has no content for a requested channel',
  VALIDATION_FAILED: 'the request body, query or path is invalid (details list each problem)',
  MALFORMED_JSON: 'the request body is not JSON',
  PAYLOAD_TOO_LARGE: 'the request body is larger than the limit',
  UNSUPPORTED_MEDIA_TYPE: 'the request body has an unsupported content type',
} as const
export type ErrorCode = keyof typeof ERROR_CODES

/** `{ error: { code, message, details } }`, for response schemas. */
export const ErrorBody = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Unknown()) }),
})

/** A markdown list of the error codes a route can answer with. */
export const errorList = (...codes: ErrorCode[]) =>
  `\n\nErrors:\n${codes.map((code) => `- \`${code}\`: ${ERROR_CODES[code]}`).join('\n')}`

/** Swagger security requirement of service-token routes. */
export const SERVICE_TOKEN = [{ [BEARER_SECURITY]: [] }]
