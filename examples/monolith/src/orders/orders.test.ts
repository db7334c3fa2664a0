import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { useTestMonolith } from '../testing.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

const openMonolith = useTestMonolith()

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'

describe('place order', () => {
  it('stores the order and publishes a custom order.placed event carrying the caller’s trace', async () => {
    const m = await openMonolith()
    await m.request('POST', '/register', { email: 'bo@example.com', password: 'a long password' })
    const login = await m.request('POST', '/login', { email: 'bo@example.com', password: 'a long password' })
    const res = await m.request(
      'POST',
      '/orders',
      {
        items: [
          { sku: 'tea', quantity: 2, priceCents: 450 },
          { sku: 'mug', quantity: 1, priceCents: 1200 },
        ],
      },
      {
        authorization: `Bearer ${login.body.accessToken}`,
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-correlation-id': 'corr-order',
      },
    )
    expect(res.status).toBe(201)
    expect(res.body.totalCents).toBe(2100)
    const placed = (await m.relayed()).filter((e) => e.type === 'order.placed')
    expect(placed).toHaveLength(1)
    expect(placed[0]).toMatchObject({
      id: res.body.eventId,
      version: 1,
      correlationId: 'corr-order',
      subject: { type: 'order', id: res.body.orderId },
      payload: { orderId: res.body.orderId, totalCents: 2100, itemCount: 2 },
    })
    expect(placed[0]?.traceparent?.split('-')[1]).toBe(traceId)
  })

  it('refuses an order without a signed-in user', async () => {
    const m = await openMonolith()
    const res = await m.request('POST', '/orders', { items: [{ sku: 'tea', quantity: 1, priceCents: 1 }] })
    expect(res.status).toBe(401)
    expect(await m.relayed()).toHaveLength(0)
  })
})
