/** `user.*` events: facts the monolith publishes about its users. */
import { type Static, Type } from '@sinclair/typebox'
import { Email, Ip, Locale, Phone, QuietHours, TimeZone, UserAgent, UserId } from './common.ts'

export const UserRegistered = Type.Object(
  {
    userId: UserId,
    email: Type.Optional(Email),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    phone: Type.Optional(Phone),
    locale: Type.Optional(Locale),
    timezone: Type.Optional(TimeZone),
    quietHours: Type.Optional(QuietHours),
  },
  { additionalProperties: false },
)

/**
 * A user changed their notification settings in the monolith: time zone and quiet hours. A field left out keeps
 * its value; `quietHours: null` removes them. Consumers apply it only when it is newer (`occurredAt`) than what set
 * each field last, so a redelivered or late event never undoes a newer setting.
 */
export const UserProfileUpdated = Type.Object(
  {
    userId: UserId,
    timezone: Type.Optional(TimeZone),
    quietHours: Type.Optional(
      Type.Union([QuietHours, Type.Null()], { description: 'null: no quiet hours any more' }),
    ),
  },
  { additionalProperties: false },
)

export const UserLoginSucceeded = Type.Object(
  {
    userId: UserId,
    method: Type.Union([
      Type.Literal('password'),
      Type.Literal('sso'),
      Type.Literal('passkey'),
      Type.Literal('magic_link'),
      Type.Literal('otp'),
    ]),
    ip: Type.Optional(Ip),
    userAgent: Type.Optional(UserAgent),
    deviceId: Type.Optional(Type.String({ maxLength: 200 })),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
)

export const UserLoginFailed = Type.Object(
  {
    userId: Type.Optional(UserId),
    identifier: Type.Optional(Type.String({ maxLength: 320, description: 'what was typed, e.g. an email' })),
    reason: Type.Union([
      Type.Literal('bad_credentials'),
      Type.Literal('locked'),
      Type.Literal('unknown_user'),
      Type.Literal('mfa_failed'),
      Type.Literal('other'),
    ]),
    ip: Type.Optional(Ip),
    userAgent: Type.Optional(UserAgent),
  },
  { additionalProperties: false },
)

/** v1: the user's password changed; every session of theirs ends. */
export const UserPasswordChangedV1 = Type.Object(
  {
    userId: UserId,
    via: Type.Optional(Type.Union([Type.Literal('settings'), Type.Literal('reset'), Type.Literal('admin')])),
  },
  { additionalProperties: false },
)
export type UserPasswordChangedV1 = Static<typeof UserPasswordChangedV1>

/**
 * v2: why the password changed (required), and the one session the user changed it from, which may survive.
 * `keepSessionId` is honoured only for `reason: 'change'`: after a reset or an admin change every session ends.
 */
export const UserPasswordChangedV2 = Type.Object(
  {
    userId: UserId,
    reason: Type.Union([Type.Literal('reset'), Type.Literal('change'), Type.Literal('admin')], {
      description: 'reset: forgotten password; change: the user changed it signed in; admin: an operator did',
    }),
    keepSessionId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'The session the user changed the password from (reason "change" only): it stays signed in, every other session ends',
      }),
    ),
  },
  { additionalProperties: false },
)
export type UserPasswordChangedV2 = Static<typeof UserPasswordChangedV2>

/**
 * v1 → v2. `via: settings` (or none: a v1 producer that did not say) is a `change`; no session is kept, as v1
 * consumers revoked every session.
 */
export const userPasswordChangedV1ToV2 = (v1: UserPasswordChangedV1): UserPasswordChangedV2 => ({
  userId: v1.userId,
  reason: v1.via === 'reset' || v1.via === 'admin' ? v1.via : 'change',
})

export const UserDeleted = Type.Object(
  { userId: UserId, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
)
