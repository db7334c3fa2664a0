/** Orders: the order row and its `order.placed` event (a custom, uncatalogued type) commit together. */
import { type EventPublisher, enqueue } from '@flotilla/sdk'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import type { RequestContext } from '../auth-gateway.ts'
import { orders } from '../db/schema.ts'
import type { PlaceOrderBody } from './model.ts'

export interface OrdersDeps {
  readonly db: PostgresJsDatabase
  readonly events: EventPublisher
}

/** Creates the order service. */
export const createOrdersService = ({ db, events }: OrdersDeps) => ({
  async place(userId: string, body: PlaceOrderBody, ctx: RequestContext) {
    const totalCents = body.items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0)
    return db.transaction(async (tx) => {
      const [order] = await tx
        .insert(orders)
        .values({ userId, items: body.items, totalCents })
        .returning({ id: orders.id })
      if (!order) throw new Error('insert returned no row')
      // Audit and analytics accept types the catalogue does not know as opaque payloads.
      const event = events.buildCustom(
        'order.placed',
        { orderId: order.id, userId, totalCents, itemCount: body.items.length },
        {
          correlationId: ctx.correlationId,
          traceparent: ctx.traceparent,
          actor: { type: 'user', id: userId },
          subject: { type: 'order', id: order.id },
        },
      )
      await enqueue(tx, event)
      return { orderId: order.id, totalCents, eventId: event.id }
    })
  },
})
export type OrdersService = ReturnType<typeof createOrdersService>
