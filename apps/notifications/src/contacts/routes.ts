/** Recipient settings routes: time zone and quiet hours per user. Service token. */
import { AppError, type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import type { ContactRow } from '../db/schema.ts'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import { isTimeZone } from '../workflows/quiet-hours.ts'
import { PutSettingsBody, RecipientSettings } from './model.ts'
import type { ContactStore } from './store.ts'

const params = t.Object({ userId: t.String({ minLength: 1, maxLength: 200 }) })

const settingsOf = (userId: string, row: ContactRow | undefined): RecipientSettings => ({
  userId,
  timezone: row?.timezone ?? null,
  quietHours: row?.quietStart && row.quietEnd ? { start: row.quietStart, end: row.quietEnd } : null,
})

const invalid = (message: string) => new AppError(422, 'INVALID_SETTINGS', message)

export const settingsRoutes = ({
  contacts,
  verifier,
}: {
  contacts: ContactStore
  verifier: ServiceVerifier
}) =>
  new Elysia({ name: 'notifications/settings' })
    .use(serviceAuth({ verifier }))
    .get(
      '/v1/users/:userId/settings',
      async ({ params }) => settingsOf(params.userId, await contacts.get(params.userId)),
      {
        params,
        response: { 200: RecipientSettings, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['preferences'],
          summary: "A user's time zone and quiet hours",
          description: errorList('INVALID_TOKEN', 'VALIDATION_FAILED'),
          security: SERVICE_TOKEN,
        },
      },
    )
    .put(
      '/v1/users/:userId/settings',
      async ({ params, body }) => {
        if (body.timezone !== undefined && !isTimeZone(body.timezone))
          throw invalid(`unknown time zone "${body.timezone}"`)
        if (body.quietHours) {
          const timezone = body.timezone ?? (await contacts.get(params.userId))?.timezone
          if (!timezone)
            throw invalid('quiet hours need the recipient’s time zone: send `timezone` with them')
        }
        return settingsOf(params.userId, await contacts.setSettings(params.userId, body))
      },
      {
        params,
        body: PutSettingsBody,
        response: { 200: RecipientSettings, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['preferences'],
          summary: "Set a user's time zone and quiet hours",
          description: `During quiet hours (local time in the user's zone) non-critical notifications are recorded \`held\` and sent when the window ends; critical ones (security alerts) go out at once. \`user.registered\` and \`user.profile.updated\` set them too: each setting is stamped with the time of what set it (this call's time, an event's \`occurredAt\`), and an older event never overwrites it.${errorList('INVALID_TOKEN', 'INVALID_SETTINGS', 'VALIDATION_FAILED', 'MALFORMED_JSON')}`,
          security: SERVICE_TOKEN,
        },
      },
    )
