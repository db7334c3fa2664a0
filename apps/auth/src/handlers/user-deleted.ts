/** `user.deleted` → every session revoked (`user_deleted`) and the user's devices forgotten. */
import type { EventOf } from '@flotilla/contracts'
import { type RevocationDeps, revokeForEvent } from './revoke-user-sessions.ts'

export const handleUserDeleted = (deps: RevocationDeps, event: EventOf<'user.deleted'>) =>
  revokeForEvent(deps, event, { userId: event.payload.userId, reason: 'user_deleted', forgetDevices: true })
