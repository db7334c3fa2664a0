/** HTTP routes for users: register, login, change password. */
import { Elysia } from 'elysia'
import type { AuthGateway } from '../auth-gateway.ts'
import { currentSession, requestContext } from '../context.ts'
import { ErrorBody } from '../error-body.ts'
import { ChangePasswordBody, LoggedIn, LoginBody, RegisterBody, Registered } from './model.ts'
import type { UsersService } from './service.ts'

export const usersRoutes = (users: UsersService, auth: AuthGateway) =>
  new Elysia({ name: 'monolith/users' })
    .use(requestContext)
    .post(
      '/register',
      async ({ body, ctx, set }) => {
        set.status = 201
        return users.register(body, ctx)
      },
      {
        body: RegisterBody,
        response: { 201: Registered, 409: ErrorBody, 422: ErrorBody },
        detail: { tags: ['users'], summary: 'Create an account' },
      },
    )
    .post('/login', ({ body, ctx }) => users.login(body, ctx), {
      body: LoginBody,
      response: { 200: LoggedIn, 401: ErrorBody, 422: ErrorBody, 503: ErrorBody },
      detail: { tags: ['users'], summary: 'Sign in; auth opens a session for the device' },
    })
    .post(
      '/change-password',
      async ({ body, ctx, headers, set }) => {
        const session = await currentSession(auth, headers.authorization, ctx)
        await users.changePassword(session, body, ctx)
        set.status = 204
      },
      {
        body: ChangePasswordBody,
        detail: {
          tags: ['users'],
          summary: 'Change the password; every session of the user ends (but this one with keepThisSession)',
        },
      },
    )
