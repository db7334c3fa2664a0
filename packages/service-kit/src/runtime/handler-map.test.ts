import { describe, expect, it } from 'bun:test'
import { type AnyEvent, createCustomEvent, createEvent, type EventOf } from '@flotilla/contracts'
import { type ConsumerMessage, NonRetryableError } from '@flotilla/streams'
import { createMetrics } from '../metrics/metrics.ts'
import { type HandlerMap, handlerOfMap, UNSUPPORTED_VERSION } from './declaration.ts'

const message = (event: AnyEvent, known = true): ConsumerMessage =>
  ({ streamId: '1-0', deliveryCount: 1, group: 'auth', known, event }) as ConsumerMessage

const v1 = createEvent(
  'user.password.changed',
  { userId: 'u_1', via: 'admin' },
  { source: 'monolith', version: 1 },
)
const v2 = createEvent('user.password.changed', { userId: 'u_1', reason: 'change' }, { source: 'monolith' })

/** A handler map for v2 (or v1) that records what reached it, and the metrics it counts in. */
const setup = (version: 1 | 2) => {
  const seen: AnyEvent[] = []
  const metrics = createMetrics('auth')
  const events: HandlerMap =
    version === 2
      ? {
          'user.password.changed': {
            version: 2,
            handle: (e: EventOf<'user.password.changed', 2>) => void seen.push(e),
          },
        }
      : {
          'user.password.changed': {
            version: 1,
            handle: (e: EventOf<'user.password.changed', 1>) => void seen.push(e),
          },
        }
  const handler = handlerOfMap(events, metrics.handlerMapObserver('auth'))
  if (!('handle' in handler)) throw new Error('a handler map makes a per-event handler')
  return { seen, metrics, handle: handler.handle }
}

const sample = async (metrics: ReturnType<typeof createMetrics>, name: string) =>
  (await metrics.registry.getSingleMetricAsString(name)).split('\n').find((l) => l.startsWith(`${name}{`))

describe('handlerOfMap with versions', () => {
  it('hands a v2 event to a v2 handler as is, and a v1 event upcast to v2', async () => {
    const { seen, handle } = setup(2)
    await handle(message(v2))
    await handle(message(v1))
    expect(seen).toEqual([v2, { ...v1, version: 2, payload: { userId: 'u_1', reason: 'admin' } } as AnyEvent])
  })

  it('dead-letters (UNSUPPORTED_VERSION) an event newer than the handler, and counts it', async () => {
    const { seen, metrics, handle } = setup(1)
    const error = await Promise.resolve(handle(message(v2))).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as NonRetryableError).code).toBe(UNSUPPORTED_VERSION)
    expect(seen).toEqual([])
    expect(await sample(metrics, 'stream_events_unsupported_version_total')).toMatch(
      /group="auth",type="user\.password\.changed".*} 1$/,
    )
  })

  it('dead-letters an unlisted version of a handled type (v99 decodes as opaque)', async () => {
    const { seen, handle } = setup(2)
    const v99 = { ...v2, version: 99, payload: { userId: 'u_1', future: true } } as unknown as AnyEvent
    const error = await Promise.resolve(handle(message(v99, false))).catch((e: unknown) => e)
    expect((error as NonRetryableError).code).toBe(UNSUPPORTED_VERSION)
    expect((error as Error).message).toContain('v99')
    expect(seen).toEqual([])
  })

  it('acknowledges an unknown type without a handler call and counts it; ignores known types it does not list', async () => {
    const { seen, metrics, handle } = setup(2)
    await handle(message(createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' }), false))
    await handle(message(createEvent('user.deleted', { userId: 'u_1' }, { source: 'monolith' })))
    expect(seen).toEqual([])
    expect(await sample(metrics, 'stream_events_unknown_type_total')).toMatch(/group="auth".*} 1$/)
  })
})
