/** The `auth` consumer group's handler map: the event types this service acts on, each with its version. */
import type { HandlerMap } from '@flotilla/service-kit'
import type { RevocationDeps } from './revoke-user-sessions.ts'
import { handleUserDeleted } from './user-deleted.ts'
import { handleUserPasswordChanged } from './user-password-changed.ts'

/** Every other event on the stream is acknowledged and ignored. */
export const authHandlers = (deps: RevocationDeps) =>
  ({
    // v2; v1 events arrive upcast (the contracts' upcaster), newer ones wait in the dead letters.
    'user.password.changed': { version: 2, handle: (event) => handleUserPasswordChanged(deps, event) },
    'user.deleted': { version: 1, handle: (event) => handleUserDeleted(deps, event) },
  }) satisfies HandlerMap
