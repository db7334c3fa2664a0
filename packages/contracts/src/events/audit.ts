/** `audit.*` events: the audit service anchoring each chain head outside its own store. */
import { Type } from '@sinclair/typebox'

export const AuditCheckpoint = Type.Object(
  {
    chain: Type.String({ minLength: 1, maxLength: 200, description: 'tenant id, or `global`' }),
    seq: Type.Integer({ minimum: 0 }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
)
