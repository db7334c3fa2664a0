/** The Elysia plugin that puts `requestId`, `correlationId` and `log` on the context of every route. */
import { Elysia } from 'elysia'
import { requestContextOf } from './request-context.ts'

/**
 * Use it in feature plugins to get the typed `requestId`, `correlationId` and `log` (it is named, so
 * Elysia registers it once however many plugins use it; `createServiceApp` already does).
 * @example new Elysia().use(requestContext).get('/x', ({ log, requestId }) => { log.info('x'); return requestId })
 */
export const requestContext = new Elysia({ name: '@flotilla/service-kit/request-context' }).derive(
  { as: 'global' },
  ({ request }) => {
    const { requestId, correlationId, log } = requestContextOf(request)
    return { requestId, correlationId, log }
  },
)
