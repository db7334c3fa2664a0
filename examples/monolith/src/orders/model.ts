/** Request and response schemas of the order routes. */
import { t } from 'elysia'

const OrderItem = t.Object(
  {
    sku: t.String({ minLength: 1, maxLength: 64 }),
    quantity: t.Integer({ minimum: 1, maximum: 1000 }),
    priceCents: t.Integer({ minimum: 0, maximum: 100_000_000 }),
  },
  { additionalProperties: false },
)

export const PlaceOrderBody = t.Object(
  { items: t.Array(OrderItem, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
)
export type PlaceOrderBody = typeof PlaceOrderBody.static

export const PlacedOrder = t.Object({ orderId: t.String(), totalCents: t.Integer(), eventId: t.String() })
