/** Request and response schemas of the session routes (written once; types derived from them). */
import type { PayloadOf } from '@flotilla/contracts'
import { CursorPage, CursorQuery, createCursorCodec } from '@flotilla/service-kit'
import { t } from 'elysia'

/** Why a session ended (the `auth.session.revoked` payload's `reason`). */
export type SessionRevokedReason = PayloadOf<'auth.session.revoked'>['reason']

// Ids end up inside Redis key hash tags, so braces and whitespace are refused.
export const UserId = t.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s{}]+$', examples: ['u_42'] })
export const SessionId = t.String({ format: 'uuid', examples: ['0b6f3c1e-8a4d-4c1b-9a37-7c1d2a9e5f10'] })
export const DeviceId = t.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9_.:-]+$',
  examples: ['ios-7f3a'],
})
const Scope = t.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' })

const DeviceInput = t.Object(
  {
    id: t.Optional(DeviceId),
    name: t.Optional(t.String({ maxLength: 200, examples: ["Ada's iPhone"] })),
    userAgent: t.Optional(t.String({ maxLength: 1000 })),
    ip: t.Optional(t.String({ maxLength: 45, examples: ['203.0.113.7'] })),
  },
  { additionalProperties: false },
)
export type DeviceInput = typeof DeviceInput.static

export const CreateSessionBody = t.Object(
  {
    userId: UserId,
    tenantId: t.Optional(t.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s{}]+$' })),
    scopes: t.Optional(t.Array(Scope, { maxItems: 50, examples: [['profile', 'orders:read']] })),
    device: t.Optional(DeviceInput),
  },
  {
    additionalProperties: false,
    examples: [
      {
        userId: 'u_42',
        tenantId: 'acme',
        scopes: ['profile', 'orders:read'],
        device: { id: 'ios-7f3a', name: "Ada's iPhone", userAgent: 'Flotilla/3.2 iOS/18', ip: '203.0.113.7' },
      },
    ],
  },
)
export type CreateSessionBody = typeof CreateSessionBody.static

export const TokenPair = t.Object(
  {
    tokenType: t.Literal('Bearer'),
    sessionId: SessionId,
    accessToken: t.String({ description: 'EdDSA `at+jwt`, verify with the JWKS or introspection' }),
    accessTokenExpiresAt: t.String({ format: 'date-time' }),
    refreshToken: t.String({ description: 'opaque, single use; only its SHA-256 hash is stored' }),
    refreshTokenExpiresAt: t.String({
      format: 'date-time',
      description: 'idle deadline; slides on every refresh',
    }),
    sessionExpiresAt: t.String({ format: 'date-time', description: 'absolute deadline; never moves' }),
  },
  {
    examples: [
      {
        tokenType: 'Bearer',
        sessionId: '0b6f3c1e-8a4d-4c1b-9a37-7c1d2a9e5f10',
        accessToken:
          'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1XzQyIn0.c2lnbmF0dXJl',
        accessTokenExpiresAt: '2026-01-01T12:15:00.000Z',
        refreshToken: '0b6f3c1e-8a4d-4c1b-9a37-7c1d2a9e5f10.q0Vh3y2P3yq3mQ6fJ1cWmJzQWQ8Hnq2m0r3s4t5u6v7',
        refreshTokenExpiresAt: '2026-01-15T12:00:00.000Z',
        sessionExpiresAt: '2026-01-31T12:00:00.000Z',
      },
    ],
  },
)
export type TokenPair = typeof TokenPair.static

export const CreatedSession = t.Composite([
  TokenPair,
  t.Object({ device: t.Union([t.Object({ id: DeviceId, isNew: t.Boolean() }), t.Null()]) }),
])

export const RefreshBody = t.Object(
  { refreshToken: t.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
)

export const SessionView = t.Object({
  id: SessionId,
  userId: t.String(),
  tenantId: t.Optional(t.String()),
  deviceId: t.Optional(t.String()),
  scopes: t.Array(t.String()),
  ip: t.Optional(t.String()),
  userAgent: t.Optional(t.String()),
  createdAt: t.String({ format: 'date-time' }),
  lastRefreshedAt: t.String({ format: 'date-time' }),
  idleExpiresAt: t.String({ format: 'date-time' }),
  absoluteExpiresAt: t.String({ format: 'date-time' }),
  current: t.Boolean({ description: 'true for the session of the access token that asked' }),
})
export type SessionView = typeof SessionView.static

export const SessionPage = CursorPage(SessionView)

export const PageQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: t.Optional(CursorQuery),
})

/** Where a page of a user's sessions (newest first: created at, then id) starts: after this session. */
export const SessionPosition = t.Object({
  createdAt: t.Integer({ minimum: 0 }),
  id: t.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Fa-f-]+$' }),
})
export type SessionPosition = typeof SessionPosition.static
export const sessionCursor = createCursorCodec(SessionPosition)

export const RevokeOthersQuery = t.Object({ except: t.Optional(SessionId) })

export const RevokedCount = t.Object({ revoked: t.Integer({ minimum: 0 }) })
