/**
 * The rules, declared in one place: which consumed event becomes which notification. Every other event
 * on the stream is acknowledged and ignored.
 */
import type { EventOf, EventType, KnownEvent } from '@flotilla/contracts'
import type { EventSubscription, HandlerMap } from '@flotilla/service-kit'
import type { ConsumerMessage } from '@flotilla/streams'
import type { ContactStore } from '../contacts/store.ts'
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

/** The `notifications` group's handler map: one entry per rule, each for version 1 of its event. */
export const notificationHandlers = (deps: NotificationHandlerDeps): HandlerMap => {
  const entry = <T extends ConsumedEventType>(_type: T): EventSubscription<T> =>
    // Every consumed type is at version 1 (the only one it lists), so the event is an EventOf<T>.
    ({
      version: 1,
      handle: (event: KnownEvent, message: ConsumerMessage) =>
        handleEvent(deps, event as EventOf<EventType>, {
          deliveryCount: message.deliveryCount,
          replay: message.replayOf !== undefined,
        }),
    }) as unknown as EventSubscription<T>
  return Object.fromEntries(CONSUMED_EVENT_TYPES.map((type) => [type, entry(type)])) as HandlerMap
}
