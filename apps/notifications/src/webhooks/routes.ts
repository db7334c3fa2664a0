/** `POST /v1/webhooks/resend`: Resend's delivery events, authenticated by their Svix signature (no service token). */
import { AppError, unauthorized } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList } from '../errors.ts'
import type { WebhookService } from './service.ts'

const WebhookAck = t.Object({
  outcome: t.String({ description: 'recorded, duplicate, ignored (a type not tracked) or unknown-message' }),
  status: t.Optional(t.String({ description: 'the delivery status after the webhook' })),
})

export const webhookRoutes = ({ webhooks }: { webhooks: WebhookService | undefined }) =>
  new Elysia({ name: 'notifications/webhooks' }).post(
    '/v1/webhooks/resend',
    async ({ body, request }) => {
      if (!webhooks)
        throw new AppError(503, 'WEBHOOK_NOT_CONFIGURED', 'RESEND_WEBHOOK_SECRET is not configured')
      const headers = {
        'svix-id': request.headers.get('svix-id') ?? '',
        'svix-timestamp': request.headers.get('svix-timestamp') ?? '',
        'svix-signature': request.headers.get('svix-signature') ?? '',
      }
      const result = await webhooks.receive(body, headers)
      if (result.outcome === 'invalid-signature')
        throw unauthorized('the webhook signature does not verify', { code: 'INVALID_SIGNATURE' })
      if (result.outcome === 'not-yet-known')
        throw new AppError(
          409,
          'DELIVERY_NOT_RECORDED_YET',
          'no delivery has this message id yet; retry later',
        )
      return result
    },
    {
      // The signature covers the exact bytes: keep the body as text.
      parse: 'text',
      body: t.String({ maxLength: 256 * 1024 }),
      response: { 200: WebhookAck, 401: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      detail: {
        tags: ['webhooks'],
        // Authenticated by the Svix signature headers, not a bearer token.
        security: [],
        summary: 'Resend delivery events (delivered, bounced, complained)',
        description: `Authenticated by the Svix headers (\`svix-id\`, \`svix-timestamp\`, \`svix-signature\`) with \`RESEND_WEBHOOK_SECRET\`. Publishes \`notification.delivered\` / \`notification.bounced\`. Idempotent on \`svix-id\`.${errorList('INVALID_SIGNATURE', 'DELIVERY_NOT_RECORDED_YET', 'WEBHOOK_NOT_CONFIGURED')}`,
      },
    },
  )
