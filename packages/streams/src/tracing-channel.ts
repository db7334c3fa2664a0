/**
 * Bun's `diagnostics_channel` TracingChannel has no aggregate `hasSubscribers` getter (oven-sh/bun#27805;
 * Node has had it since 20.13). ioredis 5.10+ traces a command unless `hasSubscribers === false`, so under
 * Bun every command paid for argument sanitising and a traced promise with nobody listening (~5% of the
 * auth service's CPU per request). This adds Node's getter — true when any of the five trace channels has
 * a subscriber — only where it is missing, so a subscribed tracer still sees every command.
 */
import * as dc from 'node:diagnostics_channel'

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const

/** Installs the getter once; a no-op on runtimes that have it. Returns whether it was installed. */
export const ensureTracingChannelSubscribersGetter = (): boolean => {
  if (typeof dc.tracingChannel !== 'function') return false
  const prototype = Object.getPrototypeOf(dc.tracingChannel('flotilla:probe')) as object
  if ('hasSubscribers' in prototype) return false
  Object.defineProperty(prototype, 'hasSubscribers', {
    configurable: true,
    get(this: Record<(typeof EVENTS)[number], { hasSubscribers: boolean } | undefined>) {
      return EVENTS.some((event) => this[event]?.hasSubscribers === true)
    },
  })
  return true
}

ensureTracingChannelSubscribersGetter()
