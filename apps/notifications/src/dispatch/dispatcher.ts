/**
 * From a notification request to its deliveries: resolve the recipient (request, then the contact
 * directory), check preferences, validate and render the template once, record one delivery per
 * (event id, channel, recipient), and send each through the delivery service. Throws what the stream
 * runtime understands: `RetryLaterError` / an error to retry, `NonRetryableError` to dead-letter.
 */
import { NonRetryableError, RetryLaterError } from '@flotilla/streams'
import type { Address } from '../channels/types.ts'
import { recipientKey } from '../channels/types.ts'
import type { ContactStore } from '../contacts/store.ts'
import type { ContactRow, DeliveryRow } from '../db/schema.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from '../deliveries/model.ts'
import type { DeliveryOutcome, DeliveryService } from '../deliveries/service.ts'
import type { DeliveryStore, Failure, NewDelivery } from '../deliveries/store.ts'
import { derivedId } from '../ids.ts'
import type { PreferenceStore } from '../preferences/store.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import type { TemplateRegistry } from '../templates/registry.ts'
import type { Digests } from '../workflows/digest.ts'
import { heldUntil, isTimeZone, type QuietHours } from '../workflows/quiet-hours.ts'
import { dueTimeOf } from '../workflows/schedule.ts'
import type { Throttle } from '../workflows/throttle.ts'
import type { NotificationRequest } from './model.ts'

export interface DispatcherDeps {
  readonly registry: TemplateRegistry
  readonly contacts: ContactStore
  readonly preferences: PreferenceStore
  readonly deliveries: DeliveryStore
  readonly service: DeliveryService
  readonly throttle: Throttle
  readonly digests: Digests
  /** Told each new delivery recorded in a workflow status (throttled, scheduled, held, digested): metrics. */
  readonly onStatus?: (info: { channel: string; status: string }) => void
}

export interface DispatchContext {
  /** The stream will not deliver this event again: transient failures become final. */
  readonly lastDelivery: boolean
  /** The event is a replay of a dead letter: dead deliveries get another chance. */
  readonly replay: boolean
  /** The directory's row the caller has just written (saves reading it again when it is the recipient's). */
  readonly contact?: ContactRow | undefined
}

interface Target {
  readonly channel: ChannelName
  readonly address: Address | undefined
}

/** The delivery id for (event id, channel, recipient): the unique key, and the root of the idempotency key. */
const deliveryIdOf = (requestId: string, channel: string, recipient: string) =>
  derivedId(`delivery|${requestId}|${channel}|${recipient}`)

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
const settleOutcomes = (outcomes: readonly DeliveryOutcome[]): void => {
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
const waitOf = (
  due: number | undefined,
  quiet: QuietHours | undefined,
): { status: DeliveryStatus; dueAt?: number } => {
  const now = Date.now()
  const at = due !== undefined && due > now ? due : now
  const until = quiet ? heldUntil(at, quiet) : undefined
  if (until !== undefined) return { status: 'held', dueAt: until }
  return at > now ? { status: 'scheduled', dueAt: at } : { status: 'queued' }
}

export const createDispatcher = (deps: DispatcherDeps) => {
  const { registry, contacts, preferences, deliveries, service, throttle, digests } = deps
  /** Records a delivery; a new one in a workflow status is counted (metrics). */
  const ensureCounted = async (d: NewDelivery) => {
    const { row, created } = await deliveries.insert(d)
    if (created && row.status !== 'queued') deps.onStatus?.({ channel: row.channel, status: row.status })
    return row
  }

  return {
    /** Dispatches one request; resolves to the rows it touched (the error, if any, is thrown after all ran). */
    async dispatch(request: NotificationRequest, context: DispatchContext): Promise<DeliveryRow[]> {
      const template = registry.get(request.template)
      if (!template)
        throw new NonRetryableError(`unknown template "${request.template}"`, { code: 'UNKNOWN_TEMPLATE' })
      // A bad schedule dead-letters the request before anything is recorded.
      const requestedDue = dueTimeOf(request)
      const { recipient } = request
      const contact =
        context.contact?.userId === recipient.userId ? context.contact : await contacts.get(recipient.userId)
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
        !critical &&
        contact?.quietStart &&
        contact.quietEnd &&
        resolved.timezone &&
        isTimeZone(resolved.timezone)
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

      // Render once for every addressable channel; bad data dead-letters the event (and is recorded per delivery).
      const channels = [...new Set(targets.filter((t) => t.address).map((t) => t.channel))]
      let rendered: Map<ChannelName, RenderedMessage>
      try {
        const { messages } = registry.render(template.name, {
          channels,
          locale,
          data: { ...request.data },
          recipient: { locale, timezone: resolved.timezone },
        })
        rendered = new Map(messages.map((m) => [m.channel, m]))
      } catch (error) {
        if (!(error instanceof NonRetryableError)) throw error
        const failure: Failure = { code: error.code, message: error.message, kind: 'permanent' }
        const rows: DeliveryRow[] = []
        for (const target of targets) {
          const row = await deliveries.ensure({
            ...base(target),
            content: null,
            status: 'dead',
            errorCode: failure.code,
            errorMessage: failure.message,
            failureKind: 'permanent',
          })
          rows.push(await service.record(row))
        }
        throw error
      }

      const rows: DeliveryRow[] = []
      const outcomes: DeliveryOutcome[] = []
      // One throttle decision per request, taken only when something would be sent.
      let admitted: boolean | undefined
      const isAdmitted = async () => {
        admitted ??= critical || (await throttle.admit(recipient.userId, category, request.requestId))
        return admitted
      }
      for (const target of targets) {
        const common = base(target)
        let row: DeliveryRow
        if (!target.address) {
          row = await deliveries.ensure({
            ...common,
            content: null,
            status: 'failed',
            errorCode: 'NO_ADDRESS',
            errorMessage: `no ${target.channel} address is known for user ${recipient.userId}`,
          })
        } else if (!critical && (await preferences.isOptedOut(recipient.userId, category, target.channel))) {
          row = await deliveries.ensure({ ...common, content: null, status: 'suppressed' })
        } else {
          const content = JSON.stringify(rendered.get(target.channel))
          if (!(await isAdmitted())) {
            const limit = throttle.limitOf(category)
            row = await ensureCounted({
              ...common,
              content,
              status: 'throttled',
              errorCode: 'THROTTLED',
              errorMessage: `more than ${limit?.limit} ${category} notifications for this user within ${limit?.windowMs} ms`,
            })
          } else {
            const wait = waitOf(requestedDue, quiet)
            // Only what would go out now is collected: critical, scheduled and held requests never wait twice.
            const digest =
              wait.status === 'queued' && !critical
                ? await digests.place(template, target.channel, common.recipient)
                : undefined
            row = await ensureCounted(
              digest
                ? { ...common, content, status: 'digested', ...digest, data: JSON.stringify(request.data) }
                : { ...common, content, ...wait },
            )
          }
          if (context.replay && row.status === 'dead') {
            await deliveries.revive(row.id, content)
            row = (await deliveries.get(row.id)) ?? row
          }
        }
        // A delivery with a due time belongs to the due-time poller: the stream never sends it.
        const outcome: DeliveryOutcome =
          row.dueAt !== null && !SETTLED_STATUSES.has(row.status as DeliveryStatus)
            ? { kind: 'settled', status: row.status as DeliveryStatus, row }
            : await service.deliver(row, { lastDelivery: context.lastDelivery })
        outcomes.push(outcome)
        rows.push(outcome.row)
      }
      settleOutcomes(outcomes)
      return rows
    },
  }
}

export type Dispatcher = ReturnType<typeof createDispatcher>
