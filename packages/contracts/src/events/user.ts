/** `user.*` events: facts the monolith publishes about its users. */
import { Type } from '@sinclair/typebox'
import { Email, Ip, Locale, Phone, TimeZone, UserAgent, UserId } from './common.ts'

export const UserRegistered = Type.Object(
  {
    userId: UserId,
    email: Type.Optional(Email),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    phone: Type.Optional(Phone),
    locale: Type.Optional(Locale),
    timezone: Type.Optional(TimeZone),
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

export const UserPasswordChanged = Type.Object(
  {
    userId: UserId,
    via: Type.Optional(Type.Union([Type.Literal('settings'), Type.Literal('reset'), Type.Literal('admin')])),
  },
  { additionalProperties: false },
)

export const UserDeleted = Type.Object(
  { userId: UserId, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
)
