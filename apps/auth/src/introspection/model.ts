/** Schemas of the introspection route (RFC 7662). */
import { t } from 'elysia'

export const IntrospectBody = t.Object({
  token: t.String({ maxLength: 10_000, description: 'the access token to check' }),
  token_type_hint: t.Optional(t.String({ maxLength: 50, examples: ['access_token'] })),
})

export const IntrospectionResult = t.Union([
  t.Object({ active: t.Literal(false) }),
  t.Object({
    active: t.Literal(true),
    token_type: t.Literal('access_token'),
    sub: t.String({ description: 'user id' }),
    sid: t.String({ description: 'session id' }),
    tenantId: t.Optional(t.String()),
    deviceId: t.Optional(t.String()),
    scope: t.String({ description: 'space-separated scopes' }),
    exp: t.Integer(),
    iat: t.Integer(),
    iss: t.String(),
    aud: t.Union([t.String(), t.Array(t.String())]),
    jti: t.String(),
  }),
])
export type IntrospectionResult = typeof IntrospectionResult.static
