/** Request and response schemas of the user routes. */
import { t } from 'elysia'

export const RegisterBody = t.Object(
  {
    email: t.String({ format: 'email', maxLength: 320 }),
    password: t.String({ minLength: 10, maxLength: 200 }),
    name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)
export type RegisterBody = typeof RegisterBody.static

export const Registered = t.Object({ userId: t.String() })

export const LoginBody = t.Object(
  {
    email: t.String({ maxLength: 320 }),
    password: t.String({ maxLength: 200 }),
    device: t.Optional(
      t.Object(
        {
          id: t.Optional(t.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' })),
          name: t.Optional(t.String({ maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type LoginBody = typeof LoginBody.static

export const LoggedIn = t.Object({
  userId: t.String(),
  sessionId: t.String(),
  accessToken: t.String(),
  refreshToken: t.String(),
  accessTokenExpiresAt: t.String(),
  device: t.Union([t.Object({ id: t.String(), isNew: t.Boolean() }), t.Null()]),
})

export const ChangePasswordBody = t.Object(
  {
    currentPassword: t.String({ maxLength: 200 }),
    newPassword: t.String({ minLength: 10, maxLength: 200 }),
    keepThisSession: t.Optional(
      t.Boolean({
        description:
          'Stay signed in here: auth keeps this session and ends every other one (user.password.changed v2 only)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type ChangePasswordBody = typeof ChangePasswordBody.static
