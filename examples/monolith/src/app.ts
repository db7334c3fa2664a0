/** createApp(deps): the monolith's Elysia app (never listens; tests call `app.handle`). */
import type { EventPublisher, OutboxRelay } from '@flotilla/sdk'
import { sql } from 'drizzle-orm'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import { Elysia } from 'elysia'
import type { AuthGateway } from './auth-gateway.ts'
import { HttpError } from './errors.ts'
import { ordersRoutes } from './orders/routes.ts'
import { createOrdersService } from './orders/service.ts'
import { usersRoutes } from './users/routes.ts'
import { createUsersService } from './users/service.ts'

export interface MonolithDeps {
  readonly db: PostgresJsDatabase
  readonly events: EventPublisher
  readonly auth: AuthGateway
  /** The version of `user.password.changed` to publish. @defaultValue 2 */
  readonly passwordChangedVersion?: 1 | 2
  /** The in-process relay, when this process runs one (reported by /ready). */
  readonly relay?: OutboxRelay
}

const body = (code: string, message: string, details?: unknown) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
})

/** Builds the app from its dependencies. */
export const createApp = (deps: MonolithDeps) =>
  new Elysia({ name: 'monolith' })
    .onError(({ code, error, set }) => {
      if (error instanceof HttpError) {
        set.status = error.status
        return body(error.code, error.message, error.details)
      }
      if (code === 'VALIDATION') {
        set.status = 422
        const problems = error.all.map((e) => ('path' in e ? { path: e.path, message: e.message } : e))
        return body('VALIDATION_FAILED', 'the request is invalid', problems)
      }
      if (code === 'NOT_FOUND') {
        set.status = 404
        return body('NOT_FOUND', 'no such route')
      }
      if (code === 'PARSE') {
        set.status = 400
        return body('BAD_REQUEST', 'the body could not be parsed')
      }
      set.status = 500
      console.error(error)
      return body('INTERNAL', 'something went wrong')
    })
    .get('/health', () => ({ status: 'ok' }))
    .get('/ready', async ({ set }) => {
      try {
        await deps.db.execute(sql`select 1`)
        const relay = deps.relay ? { ...deps.relay.status(), ...(await deps.relay.stats()) } : null
        return { status: 'ready', relay }
      } catch {
        set.status = 503
        return { status: 'unavailable' }
      }
    })
    .use(usersRoutes(createUsersService(deps), deps.auth))
    .use(ordersRoutes(createOrdersService(deps), deps.auth))
