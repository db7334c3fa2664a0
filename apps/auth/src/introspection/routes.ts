/** `POST /v1/tokens/introspect` (RFC 7662): service token only, rate-limited per client ip and per user. */
import { Elysia } from 'elysia'
import { ErrorBody, errorList } from '../errors.ts'
import { formOrJsonBody } from '../http/body.ts'
import type { Guards } from '../http/guards.ts'
import { clientIp } from '../http/request-info.ts'
import type { IntrospectionGate } from './gate.ts'
import { IntrospectBody, IntrospectionResult } from './model.ts'
import type { TokenChecker } from './service.ts'

export interface IntrospectionRouteDeps {
  readonly checker: TokenChecker
  readonly guards: Guards
  readonly gate: IntrospectionGate
  readonly trustedProxyHeader?: string
}

export const introspectionRoutes = ({ checker, guards, gate, trustedProxyHeader }: IntrospectionRouteDeps) =>
  new Elysia({ name: 'auth/introspection' }).use(guards.service).post(
    '/v1/tokens/introspect',
    // The token verifies first (locally); then its limits and session read leave as one Redis call. Either
    // limit answers 429.
    ({ body, request, server }) =>
      checker.introspect(body.token, { gate, ip: clientIp(request, server, trustedProxyHeader) }),
    {
      body: IntrospectBody,
      parse: [...formOrJsonBody],
      response: { 200: IntrospectionResult, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
      detail: {
        tags: ['tokens'],
        summary: 'Introspect an access token (RFC 7662)',
        description: `Service token (audience \`auth\`) only. JSON or \`application/x-www-form-urlencoded\` body. \`active: true\` only when the signature, \`typ\`, issuer, audience and lifetime verify **and** the session is still live in Redis, so a revocation shows at once. Every bad token answers \`{ "active": false }\`, never an error.${errorList('INVALID_TOKEN', 'RATE_LIMITED', 'VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE')}`,
        security: [{ bearer: [] }],
      },
    },
  )
