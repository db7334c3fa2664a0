/**
 * What one request becomes before anything is written: its template, recipient (the request, then the directory),
 * targets (one per channel and address), the common fields of each delivery, and the rendered messages. Shared by
 * the one-request and the batch dispatch, so both decide alike.
 */
import { NonRetryableError, RetryLaterError } from '@flotilla/streams'
import type { Address } from '../channels/types.ts'
import { recipientKey } from '../channels/types.ts'
import type { ContactRow } from '../db/schema.ts'
import type { DeliveryStatus } from '../deliveries/model.ts'
import type { DeliveryOutcome } from '../deliveries/service-types.ts'
import type { NewDelivery } from '../deliveries/store.ts'
import { timeOrderedId } from '../ids.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import type { TemplateRegistry } from '../templates/registry.ts'
import { heldUntil, isTimeZone, type QuietHours } from '../workflows/quiet-hours.ts'
import { dueTimeOf } from '../workflows/schedule.ts'
import type { NotificationRequest } from './model.ts'

export interface DispatchContext {
  /** The stream will not deliver this event again: transient failures become final. */
  readonly lastDelivery: boolean
  /** The event is a replay of a dead letter: dead deliveries get another chance. */
  readonly replay: boolean
  /** The directory's row the caller has just written (saves reading it again when it is the recipient's). */
  readonly contact?: ContactRow | undefined
}

export interface Target {
  readonly channel: ChannelName
  readonly address: Address | undefined
}

/**
 * The delivery id for (event id, channel, recipient): the unique key, and the root of the idempotency key.
 * Time-ordered by the request's event id, so a batch's rows land at the end of the id-keyed indexes.
 */
const deliveryIdOf = (requestId: string, channel: string, recipient: string) =>
  timeOrderedId(`delivery|${requestId}|${channel}|${recipient}`, requestId)

const addressesOf = (
  channel: ChannelName,
  r: {
    email?: string | null | undefined
    phone?: string | null | undefined
    push: NotificationRequest['recipient']['pushSubscriptions']
  },
): Address[] => {
  if (channel === 'email') return r.email ? [{ channel, email: r.email }] : []
  if (channel === 'sms') return r.phone ? [{ channel, phone: r.phone }] : []
  return (r.push ?? []).map((subscription) => ({ channel, subscription }))
}

/** Turns the outcomes of one event's deliveries into the stream runtime's language. */
export const settleOutcomes = (outcomes: readonly DeliveryOutcome[]): void => {
  const retries = outcomes.filter((o) => o.kind === 'retry')
  if (retries.length > 0) {
    const summary = retries.map((o) => `${o.failure.code}: ${o.failure.message}`).join('; ')
    const delays = retries.map((o) => o.delayMs)
    // Every retry knows when to come back (a rate limit, a lease): come back then. Otherwise the runtime's backoff.
    if (delays.every((d) => d !== undefined))
      throw new RetryLaterError(summary, { delayMs: Math.min(...(delays as number[])) })
    throw Object.assign(new Error(summary), { code: retries[0]?.failure.code ?? 'DELIVERY_RETRY' })
  }
  const dead = outcomes.filter((o) => o.kind === 'dead')
  if (dead.length > 0) {
    const first = dead[0]?.failure
    throw new NonRetryableError(dead.map((o) => `${o.failure.code}: ${o.failure.message}`).join('; '), {
      code: first?.code ?? 'DELIVERY_DEAD',
    })
  }
}

/**
 * How a delivery waits: held until the recipient's quiet hours end (when its time falls inside them), scheduled
 * until a future due time, else queued now.
 */
export const waitOf = (
  due: number | undefined,
  quiet: QuietHours | undefined,
): { status: DeliveryStatus; dueAt?: number } => {
  const now = Date.now()
  const at = due !== undefined && due > now ? due : now
  const until = quiet ? heldUntil(at, quiet) : undefined
  if (until !== undefined) return { status: 'held', dueAt: until }
  return at > now ? { status: 'scheduled', dueAt: at } : { status: 'queued' }
}

/**
 * Plans a request. Throws `NonRetryableError` for an unknown template or a bad schedule (before anything is
 * recorded). `contact`: the recipient's directory row, if any.
 */
export const planRequest = (
  registry: TemplateRegistry,
  request: NotificationRequest,
  contact: ContactRow | undefined,
) => {
  const template = registry.get(request.template)
  if (!template)
    throw new NonRetryableError(`unknown template "${request.template}"`, { code: 'UNKNOWN_TEMPLATE' })
  // A bad schedule dead-letters the request before anything is recorded.
  const requestedDue = dueTimeOf(request)
  const { recipient } = request
  const resolved = {
    email: recipient.email ?? contact?.email,
    phone: recipient.phone ?? contact?.phone,
    push: recipient.pushSubscriptions,
    locale: recipient.locale ?? contact?.locale ?? undefined,
    timezone: recipient.timezone ?? contact?.timezone ?? undefined,
  }
  const critical = request.critical ?? template.critical ?? false
  // Critical messages (security alerts) ignore quiet hours, as they ignore opt-outs.
  const quiet =
    !critical && contact?.quietStart && contact.quietEnd && resolved.timezone && isTimeZone(resolved.timezone)
      ? { timezone: resolved.timezone, start: contact.quietStart, end: contact.quietEnd }
      : undefined
  const category = request.category ?? template.category
  const locale = registry.resolveLocale(template.name, resolved.locale)

  const targets: Target[] = []
  for (const channel of request.channels ?? template.defaultChannels) {
    const found = addressesOf(channel, resolved)
    if (found.length === 0) targets.push({ channel, address: undefined })
    for (const address of found) targets.push({ channel, address })
  }
  for (const channel of request.optionalChannels ?? []) {
    if (targets.some((t) => t.channel === channel)) continue
    for (const address of addressesOf(channel, resolved)) targets.push({ channel, address })
  }

  const base = (target: Target) => {
    const key = target.address ? recipientKey(target.address) : `user:${recipient.userId}`
    return {
      id: deliveryIdOf(request.requestId, target.channel, key),
      eventId: request.requestId,
      eventType: request.eventType,
      channel: target.channel,
      recipient: key,
      address: target.address ? JSON.stringify(target.address) : null,
      userId: recipient.userId,
      tenantId: request.tenantId ?? null,
      correlationId: request.correlationId ?? null,
      traceparent: request.traceparent ?? null,
      template: template.name,
      locale,
      category,
      critical,
      requestKey: request.idempotencyKey ?? request.requestId,
    } satisfies Partial<NewDelivery>
  }

  return { template, requestedDue, recipient, resolved, critical, quiet, category, locale, targets, base }
}

export type Plan = ReturnType<typeof planRequest>

/**
 * Renders once for every addressable channel of the plan. Throws the registry's `NonRetryableError` on bad data.
 */
export const renderPlan = (
  registry: TemplateRegistry,
  plan: Plan,
  request: NotificationRequest,
): Map<ChannelName, RenderedMessage> => {
  const channels = [...new Set(plan.targets.filter((t) => t.address).map((t) => t.channel))]
  const { messages } = registry.render(plan.template.name, {
    channels,
    locale: plan.locale,
    data: { ...request.data },
    recipient: { locale: plan.locale, timezone: plan.resolved.timezone },
  })
  return new Map(messages.map((m) => [m.channel, m]))
}
