/** HTTP routes for orders. */
import { Elysia } from 'elysia'
import type { AuthGateway } from '../auth-gateway.ts'
import { currentUser, requestContext } from '../context.ts'
import { ErrorBody } from '../error-body.ts'
import { PlacedOrder, PlaceOrderBody } from './model.ts'
import type { OrdersService } from './service.ts'

export const ordersRoutes = (orders: OrdersService, auth: AuthGateway) =>
  new Elysia({ name: 'monolith/orders' }).use(requestContext).post(
    '/orders',
    async ({ body, ctx, headers, set }) => {
      const userId = await currentUser(auth, headers.authorization, ctx)
      set.status = 201
      return orders.place(userId, body, ctx)
    },
    {
      body: PlaceOrderBody,
      response: { 201: PlacedOrder, 401: ErrorBody, 422: ErrorBody },
      detail: { tags: ['orders'], summary: 'Place an order; `order.placed` is published through the outbox' },
    },
  )
