/** Users: register, log in, change password. Facts go out through the outbox (in the same transaction). */
import type { EventPublisher } from '@flotilla/sdk'
import { enqueue } from '@flotilla/sdk'
import { eq } from 'drizzle-orm'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import type { AuthGateway, RequestContext, SessionTokens } from '../auth-gateway.ts'
import { users } from '../db/schema.ts'
import { HttpError } from '../errors.ts'
import type { ChangePasswordBody, LoginBody, RegisterBody } from './model.ts'

export interface UsersDeps {
  readonly db: PostgresJsDatabase
  readonly events: EventPublisher
  readonly auth: AuthGateway
  /** The version of `user.password.changed` to publish. @defaultValue 2 */
  readonly passwordChangedVersion?: 1 | 2
}

// Verified against when the email is unknown, so both answers take as long.
const DUMMY_HASH = await Bun.password.hash('not-a-real-password')

/** PostgreSQL's unique_violation, as postgres-js reports it (drizzle wraps it as the cause). */
const isUniqueViolation = (error: unknown): boolean => {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '23505') return true
  }
  return false
}

const trace = (ctx: RequestContext) => ({ correlationId: ctx.correlationId, traceparent: ctx.traceparent })
const invalidCredentials = () => new HttpError(401, 'INVALID_CREDENTIALS', 'email or password is wrong')

/** Creates the user service. */
export const createUsersService = ({ db, events, auth, passwordChangedVersion = 2 }: UsersDeps) => ({
  /** Creates the user and enqueues `user.registered` in one transaction. */
  async register(body: RegisterBody, ctx: RequestContext): Promise<{ userId: string }> {
    const passwordHash = await Bun.password.hash(body.password)
    const email = body.email.toLowerCase()
    const taken = () => new HttpError(409, 'EMAIL_TAKEN', 'an account with this email exists')
    // No read-then-insert: the unique index decides, so two registrations racing for one email cannot both win.
    return db
      .transaction(async (tx) => {
        const [user] = await tx
          .insert(users)
          .values({ email, passwordHash, ...(body.name ? { name: body.name } : {}) })
          .returning({ id: users.id })
        if (!user) throw new Error('insert returned no row')
        const subject = { type: 'user', id: user.id }
        await enqueue(
          tx,
          events.build(
            'user.registered',
            { userId: user.id, email, ...(body.name ? { name: body.name } : {}) },
            { ...trace(ctx), actor: subject, subject },
          ),
        )
        return { userId: user.id }
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw taken()
        throw error
      })
  },

  /** Checks the password, then asks auth for a session. Login facts are published directly (no transaction). */
  async login(body: LoginBody, ctx: RequestContext): Promise<SessionTokens & { userId: string }> {
    const email = body.email.toLowerCase()
    const [user] = await db.select().from(users).where(eq(users.email, email))
    const ok = await Bun.password.verify(body.password, user?.passwordHash ?? DUMMY_HASH)
    const client = {
      ...(ctx.ip ? { ip: ctx.ip } : {}),
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    }
    if (!user || !ok) {
      // Best effort: a lost login-failure fact is acceptable; an unavailable Redis must not turn 401 into 500.
      await events
        .emit(
          'user.login.failed',
          {
            ...(user ? { userId: user.id } : { identifier: email }),
            reason: user ? 'bad_credentials' : 'unknown_user',
            ...client,
          },
          trace(ctx),
        )
        .catch(() => {})
      throw invalidCredentials()
    }
    const session = await auth.createSession(
      { userId: user.id, ...(body.device ? { device: body.device } : {}) },
      ctx,
    )
    const subject = { type: 'user', id: user.id }
    await events
      .emit(
        'user.login.succeeded',
        {
          userId: user.id,
          method: 'password',
          ...(session.device ? { deviceId: session.device.id } : {}),
          ...client,
        },
        { ...trace(ctx), actor: subject, subject },
      )
      .catch(() => {})
    return { userId: user.id, ...session }
  },

  /**
   * Changes the password and enqueues `user.password.changed` (v2 `reason: change`, or v1 `via: settings` while
   * `passwordChangedVersion` is 1); auth then ends every session of the user, but the one it was changed from
   * when `keepThisSession` is set (v2 only: v1 cannot say so, and every session ends).
   */
  async changePassword(
    { userId, sessionId }: { userId: string; sessionId: string },
    body: ChangePasswordBody,
    ctx: RequestContext,
  ): Promise<void> {
    const [user] = await db.select().from(users).where(eq(users.id, userId))
    if (!user) throw new HttpError(404, 'NOT_FOUND', 'user not found')
    if (!(await Bun.password.verify(body.currentPassword, user.passwordHash))) throw invalidCredentials()
    const passwordHash = await Bun.password.hash(body.newPassword)
    await db.transaction(async (tx) => {
      await tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, userId))
      const subject = { type: 'user', id: userId }
      const options = { ...trace(ctx), actor: subject, subject }
      await enqueue(
        tx,
        passwordChangedVersion === 1
          ? events.build('user.password.changed', { userId, via: 'settings' }, { ...options, version: 1 })
          : events.build(
              'user.password.changed',
              { userId, reason: 'change', ...(body.keepThisSession ? { keepSessionId: sessionId } : {}) },
              options,
            ),
      )
    })
  },
})
export type UsersService = ReturnType<typeof createUsersService>
