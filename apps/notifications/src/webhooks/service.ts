/**
 * Resend webhooks: verify the Svix signature, then record delivered / bounced / complained on the delivery
 * and publish `notification.delivered` / `notification.bounced`. Idempotent on the Svix message id (a
 * retried webhook changes nothing and republishes the same event id).
 */
import { eq } from 'drizzle-orm'
import type { Webhook } from 'svix'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { webhookReceipts } from '../db/schema.ts'
import { type EventSink, providerEventOf } from '../deliveries/outcome-events.ts'
import type { DeliveryStore } from '../deliveries/store.ts'

/** The part of a Resend webhook body this service reads. */
export interface ResendWebhook {
  readonly type: string
  readonly created_at?: string
  readonly data?: {
    readonly email_id?: string
    readonly created_at?: string
    readonly bounce?: { readonly message?: string; readonly type?: string; readonly subType?: string }
  }
}

export type WebhookResult =
  | { readonly outcome: 'invalid-signature'; readonly message: string }
  | { readonly outcome: 'not-yet-known' }
  | { readonly outcome: 'recorded' | 'duplicate' | 'ignored' | 'unknown-message'; readonly status?: string }

/** How long an unknown message id is worth a provider retry (our record of the send may lag behind). */
const RECENT_MS = 10 * 60 * 1000

const KINDS = {
  'email.delivered': 'delivered',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
} as const

export interface WebhookServiceDeps {
  readonly db: Db
  readonly deliveries: DeliveryStore
  readonly events: EventSink
  readonly secret: string
}

export const createWebhookService = ({ db, deliveries, events, secret }: WebhookServiceDeps) => {
  // svix loads at the first webhook: an idle service does not hold it in memory.
  let verifier: Promise<Webhook> | undefined
  const verifierOf = () => (verifier ??= import('svix').then(({ Webhook }) => new Webhook(secret)))
  return {
    /** Verifies and applies one webhook; `rawBody` exactly as received (the signature covers the bytes). */
    async receive(rawBody: string, headers: Record<string, string>): Promise<WebhookResult> {
      const webhook = await verifierOf()
      try {
        // svix 2.x verifies and throws; it returns nothing, so the body is parsed here.
        webhook.verify(rawBody, headers)
      } catch (error) {
        // WebhookVerificationError is an Error too.
        if (error instanceof Error) return { outcome: 'invalid-signature', message: error.message }
        throw error
      }
      let body: ResendWebhook
      try {
        body = JSON.parse(rawBody) as ResendWebhook
      } catch {
        return { outcome: 'ignored' }
      }
      const receiptId = headers['svix-id'] ?? ''
      const [seen] = await db.select().from(webhookReceipts).where(eq(webhookReceipts.id, receiptId))
      if (seen) return { outcome: 'duplicate' }
      const kind = KINDS[body.type as keyof typeof KINDS]
      const messageId = body.data?.email_id
      let result: WebhookResult = { outcome: 'ignored' }
      if (kind && messageId) {
        const row = await deliveries.findByProviderMessage('resend', messageId)
        if (!row) {
          // The webhook may beat our own record of the send: a recent one is refused so Svix retries it.
          const at = Date.parse(body.data?.created_at ?? body.created_at ?? '')
          if (Number.isFinite(at) && Date.now() - at < RECENT_MS) return { outcome: 'not-yet-known' }
          result = { outcome: 'unknown-message' }
        } else {
          const at = new Date(body.data?.created_at ?? body.created_at ?? Date.now())
          const when = Number.isNaN(at.getTime()) ? new Date() : at
          await deliveries.markOutcome(row.id, kind, when.getTime())
          const current = (await deliveries.get(row.id)) ?? row
          // Published whenever the delivery is in this state (also when a retried webhook finds it already applied).
          if (current.status === kind) {
            const reason = body.data?.bounce?.message
            await events.publish(providerEventOf(current, kind, when, receiptId, reason))
          }
          result = { outcome: 'recorded', status: current.status }
        }
      }
      // The receipt last: a crash before it lets the provider's retry finish the job.
      await retryWhileBusy(() =>
        db
          .insert(webhookReceipts)
          .values({ id: receiptId, type: body.type, receivedAt: Date.now() })
          .onConflictDoNothing(),
      )
      return result
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
