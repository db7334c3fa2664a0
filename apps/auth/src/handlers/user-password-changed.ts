/** `user.password.changed` → every session that existed at the change is revoked (`password_changed`). */
import type { EventOf } from '@flotilla/contracts'
import { type RevocationDeps, revokeForEvent } from './revoke-user-sessions.ts'

export const handleUserPasswordChanged = (deps: RevocationDeps, event: EventOf<'user.password.changed'>) =>
  revokeForEvent(deps, event, {
    userId: event.payload.userId,
    reason: 'password_changed',
    // Sessions created after the change (the user signing in with the new password) survive a late event.
    createdBefore: Date.parse(event.occurredAt),
  })
