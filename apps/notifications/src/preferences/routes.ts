/** Preference routes: read and replace a user's opt-outs (category × channel). Service token. */
import { type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import { Preferences, PutPreferencesBody } from './model.ts'
import type { PreferenceStore } from './store.ts'

export interface PreferenceRouteDeps {
  readonly preferences: PreferenceStore
  readonly verifier: ServiceVerifier
}

const params = t.Object({ userId: t.String({ minLength: 1, maxLength: 200 }) })

export const preferenceRoutes = ({ preferences, verifier }: PreferenceRouteDeps) =>
  new Elysia({ name: 'notifications/preferences' })
    .use(serviceAuth({ verifier }))
    .get(
      '/v1/users/:userId/preferences',
      async ({ params }) => ({ userId: params.userId, optOuts: await preferences.optOuts(params.userId) }),
      {
        params,
        response: { 200: Preferences, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['preferences'],
          summary: "A user's opt-outs (a user without any gets an empty list)",
          description: errorList('INVALID_TOKEN', 'VALIDATION_FAILED'),
          security: SERVICE_TOKEN,
        },
      },
    )
    .put(
      '/v1/users/:userId/preferences',
      async ({ params, body }) => ({
        userId: params.userId,
        optOuts: await preferences.replace(params.userId, body.optOuts),
      }),
      {
        params,
        body: PutPreferencesBody,
        response: { 200: Preferences, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['preferences'],
          summary: "Replace a user's opt-outs",
          description: `Notifications of an opted-out category on that channel are recorded as \`suppressed\` and not sent; critical ones (security alerts) are sent anyway.${errorList('INVALID_TOKEN', 'VALIDATION_FAILED', 'MALFORMED_JSON')}`,
          security: SERVICE_TOKEN,
        },
      },
    )
