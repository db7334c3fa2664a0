/** `auth.*` events: facts the auth service publishes about sessions and devices. */
import { Type } from '@sinclair/typebox'
import { Ip, IsoTimestamp, UserAgent, UserId } from './common.ts'

const SessionId = Type.String({ minLength: 1, maxLength: 200 })
const DeviceId = Type.String({ minLength: 1, maxLength: 200 })

export const AuthSessionCreated = Type.Object(
  {
    sessionId: SessionId,
    userId: UserId,
    deviceId: Type.Optional(DeviceId),
    scopes: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 }),
    expiresAt: IsoTimestamp,
  },
  { additionalProperties: false },
)

export const SessionRevokedReason = Type.Union([
  Type.Literal('logout'),
  Type.Literal('signed_out_everywhere'),
  Type.Literal('password_changed'),
  Type.Literal('user_deleted'),
  Type.Literal('refresh_reused'),
  Type.Literal('device_removed'),
  Type.Literal('admin'),
])

export const AuthSessionRevoked = Type.Object(
  { sessionId: SessionId, userId: UserId, reason: SessionRevokedReason },
  { additionalProperties: false },
)

export const AuthDeviceAdded = Type.Object(
  {
    userId: UserId,
    deviceId: DeviceId,
    name: Type.Optional(Type.String({ maxLength: 200 })),
    userAgent: Type.Optional(UserAgent),
    ip: Type.Optional(Ip),
  },
  { additionalProperties: false },
)

export const AuthRefreshReused = Type.Object(
  {
    userId: UserId,
    familyId: Type.String({ minLength: 1, maxLength: 200 }),
    sessionId: SessionId,
    deviceId: Type.Optional(DeviceId),
    ip: Type.Optional(Ip),
    userAgent: Type.Optional(UserAgent),
  },
  { additionalProperties: false },
)
