/** GET /v1/audit/verify — recomputes one chain and compares it with its checkpoints. */

import { type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import type { ExternalAnchors } from '../chain/checkpoints.ts'
import { ERRORS, ErrorBody, READ_ERRORS } from '../errors.ts'
import { GLOBAL_CHAIN } from '../records/model.ts'
import type { AuditStore } from '../store/types.ts'
import { verifyChain } from './service.ts'

const VerifyQuery = t.Object({
  tenantId: t.Optional(
    t.String({ minLength: 1, maxLength: 200, description: 'the chain; `global` when omitted by a service' }),
  ),
})

const VerifyResponse = t.Object({
  ok: t.Boolean(),
  chain: t.String(),
  checked: t.Integer({ description: 'records whose hash and link were recomputed' }),
  head: t.Object({ seq: t.Integer(), hash: t.String() }),
  checkpoints: t.Integer({ description: 'checkpoints compared' }),
  brokenAt: t.Optional(
    t.Object({
      seq: t.Integer(),
      eventId: t.Union([t.String(), t.Null()]),
      reason: t.Union([
        t.Literal('hash_mismatch'),
        t.Literal('prev_hash_mismatch'),
        t.Literal('record_missing'),
        t.Literal('checkpoint_mismatch'),
        t.Literal('truncated'),
        t.Literal('anchor_mismatch'),
      ]),
      message: t.String(),
    }),
  ),
})

export interface VerifyRoutesDeps {
  readonly store: AuditStore
  readonly anchors?: ExternalAnchors | undefined
  readonly auth: CallerAuthOptions
  readonly onVerified?: ((chain: string, ok: boolean) => void) | undefined
}

export const verifyRoutes = ({ store, anchors, auth, onVerified }: VerifyRoutesDeps) =>
  new Elysia().use(callerAuth(auth)).get(
    '/v1/audit/verify',
    async ({ caller, query }) => {
      const chain = tenantScope(caller, query.tenantId) ?? GLOBAL_CHAIN
      const result = await verifyChain({ store, ...(anchors ? { anchors } : {}) }, chain)
      onVerified?.(chain, result.ok)
      return result
    },
    {
      query: VerifyQuery,
      response: { 200: VerifyResponse, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      detail: {
        summary: 'Verify a tenant chain',
        description: ERRORS.describe(
          'Recomputes every hash and link from the retention anchor to the head, then compares with the checkpoints (in-chain `audit.checkpoint` records and the last one kept in Redis). `brokenAt` names the first record that fails and why.',
          ...READ_ERRORS,
        ),
        tags: ['audit'],
        security: [{ bearer: [] }],
      },
    },
  )
