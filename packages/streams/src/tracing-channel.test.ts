import { describe, expect, it } from 'bun:test'
import * as dc from 'node:diagnostics_channel'
import { ensureTracingChannelSubscribersGetter } from './tracing-channel.ts'

describe('TracingChannel hasSubscribers', () => {
  it('is false without subscribers and true once any trace event has one, as in Node', () => {
    ensureTracingChannelSubscribersGetter()
    const channel = dc.tracingChannel(`flotilla:test:${crypto.randomUUID()}`)
    expect(channel.hasSubscribers).toBe(false)
    const handlers = { asyncEnd: () => {} }
    channel.subscribe(handlers)
    expect(channel.hasSubscribers).toBe(true)
    channel.unsubscribe(handlers)
    expect(channel.hasSubscribers).toBe(false)
  })

  it('is installed by importing the package, so ioredis skips tracing nobody listens to', async () => {
    await import('./index.ts')
    expect(dc.tracingChannel('ioredis:command').hasSubscribers).toBe(false)
    expect(ensureTracingChannelSubscribersGetter()).toBe(false)
  })
})
