/**
 * The rules, declared in one place: which consumed event becomes which notification. Every other event
 * on the stream is acknowledged and ignored.
 */
import type { EventOf, EventType, KnownEvent } from '@flotilla/contracts'
import type { EventSubscription, HandlerMap } from '@flotilla/service-kit'
import type { ConsumerMessage } from '@flotilla/streams'
import DataLoader from 'dataloader'
import type { ContactStore } from '../contacts/store.ts'
import type { ContactRow } from '../db/schema.ts'
import type { BatchItem, BatchResult, PendingContacts } from '../dispatch/batch.ts'
import type { Dispatcher } from '../dispatch/dispatcher.ts'
import { authDeviceAdded } from './auth-device-added.ts'
import { authRefreshReused } from './auth-refresh-reused.ts'
import { notificationRequested } from './notification-requested.ts'
import type { Rule } from './rule.ts'
import { userProfileUpdated } from './user-profile-updated.ts'
import { userRegistered } from './user-registered.ts'

/** Event type → rule. */
export const RULES = {
  'notification.requested': notificationRequested,
  'user.registered': userRegistered,
  'user.profile.updated': userProfileUpdated,
  'auth.device.added': authDeviceAdded,
  'auth.refresh.reused': authRefreshReused,
} as const satisfies { readonly [T in EventType]?: Rule<T> }

export type ConsumedEventType = keyof typeof RULES
export const CONSUMED_EVENT_TYPES = Object.keys(RULES) as ConsumedEventType[]

export interface NotificationHandlerDeps {
  readonly contacts: ContactStore
  readonly dispatcher: Dispatcher
  /** The consumer's `maxDeliveries`: on the last delivery a transient failure is final. */
  readonly maxDeliveries: number
}

const ruleOf = (type: string): Rule<EventType> | undefined =>
  Object.hasOwn(RULES, type) ? (RULES[type as ConsumedEventType] as unknown as Rule<EventType>) : undefined

/** Handles one consumed event: feed the directory, then dispatch the rule's request. */
export const handleEvent = async (
  deps: NotificationHandlerDeps,
  event: EventOf<EventType>,
  context: { deliveryCount: number; replay: boolean },
): Promise<void> => {
  const rule = ruleOf(event.type)
  if (!rule) return
  const contact = rule.contact?.(event)
  const settings = rule.settings?.(event)
  let stored = contact ? await deps.contacts.upsert(contact) : undefined
  if (settings) stored = await deps.contacts.applySettings(settings)
  const request = rule.request(event)
  if (!request) return
  await deps.dispatcher.dispatch(request, {
    lastDelivery: context.deliveryCount >= deps.maxDeliveries,
    replay: context.replay,
    contact: stored,
  })
}

/** One consumed event with how the stream delivered it. */
export interface ConsumedEvent {
  readonly event: EventOf<EventType>
  readonly context: { readonly deliveryCount: number; readonly replay: boolean }
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))

/**
 * Handles many consumed events as `handleEvent` handles each: feed the directory, then dispatch every rule's
 * request in one batch (shared writes, each request decided alone). Resolves to one error (or undefined) per
 * event, in order. When the batch fails as a whole (a database error), each request is dispatched alone, so a
 * poison entry fails alone while the others go through.
 */
export const handleEvents = async (
  deps: NotificationHandlerDeps,
  events: readonly ConsumedEvent[],
): Promise<(Error | undefined)[]> => {
  const errors: (Error | undefined)[] = events.map(() => undefined)
  const requests: { index: number; item: BatchItem }[] = []
  const planned = events.map(({ event, context }, index) => {
    try {
      const rule = ruleOf(event.type)
      if (!rule) return undefined
      return {
        index,
        context,
        contact: rule.contact?.(event),
        settings: rule.settings?.(event),
        request: rule.request(event),
      }
    } catch (error) {
      errors[index] = asError(error)
      return undefined
    }
  })
  const contacts = planned.flatMap((p) => (p?.contact ? [p.contact] : []))
  // No settings in the batch (the usual case): the directory upsert is left to the batch, which commits it with
  // its deliveries when it can (`dispatchBatch`), deciding every request on the rows the upsert will leave (read
  // here without writing). Settings (rare) keep the order upsert, then settings, each committed first.
  const pending: PendingContacts | undefined = planned.every((p) => !p?.settings)
    ? await deps.contacts.expectMany(contacts).then(
        (expected) => ({ inputs: contacts, expected }),
        () => undefined,
      )
    : undefined
  // One statement for the batch's directory writes; when it fails, each event writes its own (and fails alone).
  const stored = pending ? undefined : await deps.contacts.upsertMany(contacts).catch(() => undefined)
  await Promise.all(
    planned.map(async (p) => {
      if (!p) return
      try {
        const { index, context, contact, settings, request } = p
        let row = contact
          ? (pending?.expected.get(contact.userId) ??
            stored?.get(contact.userId) ??
            (await deps.contacts.upsert(contact)))
          : undefined
        // Settings keep the newest by event time (rare events: user.registered, user.profile.updated), one by one.
        if (settings) row = await deps.contacts.applySettings(settings)
        if (!request) return
        const dispatchContext = {
          lastDelivery: context.deliveryCount >= deps.maxDeliveries,
          replay: context.replay,
          contact: row,
        }
        requests.push({ index, item: { request, context: dispatchContext } })
      } catch (error) {
        errors[p.index] = asError(error)
      }
    }),
  )
  requests.sort((a, b) => a.index - b.index)
  let results: BatchResult[]
  try {
    results = await deps.dispatcher.dispatchBatch(
      requests.map((r) => r.item),
      pending,
    )
  } catch {
    // Each event alone, as `handleEvent` handles it: its directory write first when the batch owed it.
    const written = new Map<number, ContactRow>()
    if (pending)
      for (const p of planned) {
        if (!p?.contact) continue
        try {
          written.set(p.index, await deps.contacts.upsert(p.contact))
        } catch (error) {
          errors[p.index] = asError(error)
        }
      }
    results = []
    for (const { index, item } of requests) {
      const failed = errors[index]
      if (failed) {
        results.push({ error: failed })
        continue
      }
      try {
        const contact = written.get(index) ?? item.context.contact
        results.push({ rows: await deps.dispatcher.dispatch(item.request, { ...item.context, contact }) })
      } catch (error) {
        results.push({ error })
      }
    }
  }
  for (const [i, { index }] of requests.entries()) {
    const result = results[i]
    if (result && 'error' in result) errors[index] = asError(result.error)
  }
  return errors
}

/**
 * The `notifications` group's handler map: one entry per rule, each for version 1 of its event. The events the
 * consumer hands over at once (up to its concurrency) are coalesced into one `handleEvents` batch
 * (graphql/dataloader, scheduled after the current turn of the event loop); each call settles with its own event.
 */
export const notificationHandlers = (deps: NotificationHandlerDeps): HandlerMap => {
  const loader = new DataLoader<ConsumedEvent, undefined>(
    async (batch) => (await handleEvents(deps, batch)).map((error) => error ?? undefined),
    { cache: false, batchScheduleFn: (run) => setImmediate(run) },
  )
  const entry = <T extends ConsumedEventType>(_type: T): EventSubscription<T> =>
    // Every consumed type is at version 1 (the only one it lists), so the event is an EventOf<T>.
    ({
      version: 1,
      handle: (event: KnownEvent, message: ConsumerMessage) =>
        loader.load({
          event: event as EventOf<EventType>,
          context: { deliveryCount: message.deliveryCount, replay: message.replayOf !== undefined },
        }),
    }) as unknown as EventSubscription<T>
  return Object.fromEntries(CONSUMED_EVENT_TYPES.map((type) => [type, entry(type)])) as HandlerMap
}
