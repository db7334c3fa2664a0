/** Upcasting: a known event at an older listed version → the same event at a newer one, one upcaster per step. */
import { type EventType, isKnownType, versionEntryOf } from './catalog.ts'
import type { AnyEvent, KnownEvent } from './types.ts'

/** The event at the asked version, or why it cannot be had (the consumer dead-letters it: UNSUPPORTED_VERSION). */
export type UpcastResult =
  | { readonly ok: true; readonly event: KnownEvent }
  | { readonly ok: false; readonly reason: string }

/**
 * Brings an event of a known type to version `to`: as is when it is already there, through each step's upcaster
 * (v1 → v2 → …) when it is older. Never mutates the event (audit stores events as published); a newer version, an
 * unlisted one, or a step without an upcaster is refused with the reason.
 * @example upcastEvent(v1Event, 2) // { ok: true, event: { ...v1Event, version: 2, payload: { userId, reason } } }
 */
export const upcastEvent = (event: AnyEvent, to: number): UpcastResult => {
  const { type, version } = event
  if (!isKnownType(type)) return { ok: false, reason: `event type "${type}" is not in the catalogue` }
  if (!versionEntryOf(type, version))
    return {
      ok: false,
      reason: `${type} v${version} is not in this consumer's catalogue (it handles v${to})`,
    }
  if (version > to)
    return {
      ok: false,
      reason: `${type} v${version} is newer than v${to}, the version this consumer handles`,
    }
  let payload: unknown = event.payload
  for (let step = version + 1; step <= to; step++) {
    const upcast = versionEntryOf(type as EventType, step)?.upcast as
      | ((previous: unknown) => unknown)
      | undefined
    if (!upcast) return { ok: false, reason: `${type} has no upcaster from v${step - 1} to v${step}` }
    payload = upcast(payload)
  }
  if (version === to) return { ok: true, event: event as KnownEvent }
  return { ok: true, event: { ...event, version: to, payload } as unknown as KnownEvent }
}
