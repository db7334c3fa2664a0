/** Schemas of the introspection route (RFC 7662). */
import { Type } from '@sinclair/typebox'
import { t } from 'elysia'

export const IntrospectBody = t.Object({
  token: t.String({ maxLength: 10_000, description: 'the access token to check' }),
  token_type_hint: t.Optional(t.String({ maxLength: 50, examples: ['access_token'] })),
})

export const IntrospectionResult = t.Union(
  [
    t.Object({ active: t.Literal(false) }),
    t.Object({
      active: t.Literal(true),
      token_type: t.Literal('access_token'),
      sub: t.String({ description: 'user id' }),
      sid: t.String({ description: 'session id' }),
      tenantId: t.Optional(t.String()),
      deviceId: t.Optional(t.String()),
      scope: t.String({ description: 'space-separated scopes' }),
      // TypeBox's own integer, not Elysia's `t.Integer` (a transform that also accepts numeric strings): a
      // transform makes Elysia encode every response through the union instead of just checking it.
      exp: Type.Integer(),
      iat: Type.Integer(),
      iss: t.String(),
      aud: t.Union([t.String(), t.Array(t.String())]),
      jti: t.String(),
    }),
  ],
  {
    examples: [
      { active: false },
      {
        active: true,
        token_type: 'access_token',
        sub: 'u_42',
        sid: '0b6f3c1e-8a4d-4c1b-9a37-7c1d2a9e5f10',
        tenantId: 'acme',
        deviceId: 'ios-7f3a',
        scope: 'profile orders:read',
        exp: 1767270900,
        iat: 1767270000,
        iss: 'flotilla-auth',
        aud: 'flotilla',
        jti: '5d0c7e2a-3f4b-4c8e-9a1d-2b3c4d5e6f70',
      },
    ],
  },
)
export type IntrospectionResult = typeof IntrospectionResult.static
