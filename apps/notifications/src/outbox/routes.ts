/** `GET /v1/outbox`: what the local outbox transport stored instead of sending (local runs). Service token. */
import { Channel } from '@flotilla/contracts'
import { CursorPage, CursorQuery, type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { rowCursor } from '../db/page.ts'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import type { OutboxStore } from './store.ts'

const OutboxMessage = t.Object({
  id: t.String(),
  idempotencyKey: t.String(),
  channel: Channel,
  recipient: t.String(),
  subject: t.Union([t.String(), t.Null()], { description: 'email subject or push title' }),
  body: t.String({ description: 'plain text (email text, SMS, push body)' }),
  html: t.Union([t.String(), t.Null()]),
  createdAt: t.String({ format: 'date-time' }),
})

const OutboxPage = CursorPage(OutboxMessage)

export const outboxRoutes = ({ outbox, verifier }: { outbox: OutboxStore; verifier: ServiceVerifier }) =>
  new Elysia({ name: 'notifications/outbox' }).use(serviceAuth({ verifier })).get(
    '/v1/outbox',
    async ({ query }) => {
      const { cursor, ...filters } = query
      const after = rowCursor.decodeOptional(cursor)
      const page = await outbox.list({ ...filters, ...(after !== undefined ? { after } : {}) })
      return {
        items: page.items.map((row) => ({
          ...row,
          channel: row.channel as typeof Channel.static,
          createdAt: new Date(row.createdAt).toISOString(),
        })),
        nextCursor: page.next && rowCursor.encode(page.next),
      }
    },
    {
      query: t.Object({
        channel: t.Optional(Channel),
        recipient: t.Optional(t.String({ maxLength: 2000 })),
        cursor: t.Optional(CursorQuery),
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20 })),
      }),
      response: { 200: OutboxPage, 400: ErrorBody, 401: ErrorBody, 422: ErrorBody },
      detail: {
        tags: ['outbox'],
        summary: 'Messages the local outbox stored instead of sending, newest first',
        description: `Used when no provider is configured (no \`RESEND_API_KEY\`, no Twilio or VAPID keys).${errorList('INVALID_CURSOR', 'INVALID_TOKEN', 'VALIDATION_FAILED')}`,
        security: SERVICE_TOKEN,
      },
    },
  )
