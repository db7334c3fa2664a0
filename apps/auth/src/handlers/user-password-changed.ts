/**
 * `user.password.changed` v2 (v1 arrives upcast: `reason` from `via`, no session kept) → every session of the user
 * that existed at the change is revoked (`password_changed`), except, for `reason: change`, the one named by
 * `keepSessionId` (the session the user changed the password from). After a reset or an admin change every
 * session ends, whatever the event says: the old password may be in someone else's hands.
 *
 * The user-wide cutoff (`revokeUserBefore`: every access token issued before the change is refused by every
 * verifier) applies to the kept session too: it is not revoked, so its refresh token still works, and the client
 * refreshes once to get an access token issued after the change.
 */
import type { EventOf } from '@flotilla/contracts'
import { type RevocationDeps, revokeForEvent } from './revoke-user-sessions.ts'

export const handleUserPasswordChanged = (
  deps: RevocationDeps,
  event: EventOf<'user.password.changed', 2>,
) => {
  const { userId, reason, keepSessionId } = event.payload
  return revokeForEvent(deps, event, {
    userId,
    reason: 'password_changed',
    // Sessions created after the change (the user signing in with the new password) survive a late event.
    createdBefore: Date.parse(event.occurredAt),
    ...(reason === 'change' && keepSessionId !== undefined ? { keepSessionId } : {}),
  })
}
