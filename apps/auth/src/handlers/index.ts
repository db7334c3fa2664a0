/** The `auth` consumer group's handler: dispatches the event types this service consumes. */
import type { ConsumerMessage, EventHandler } from '@flotilla/streams'
import type { RevocationDeps } from './revoke-user-sessions.ts'
import { handleUserDeleted } from './user-deleted.ts'
import { handleUserPasswordChanged } from './user-password-changed.ts'

/** Event types the auth group acts on; every other event is acknowledged and ignored. */
export const CONSUMED_EVENT_TYPES = ['user.password.changed', 'user.deleted'] as const

/** Creates the handler for `createConsumer({ group: 'auth', handler })`. */
export const createAuthEventHandler = (
  deps: RevocationDeps,
): EventHandler & { handle(message: ConsumerMessage): Promise<void> } => ({
  async handle(message: ConsumerMessage) {
    if (!message.known) return
    const { event } = message
    if (event.type === 'user.password.changed') await handleUserPasswordChanged(deps, event)
    else if (event.type === 'user.deleted') await handleUserDeleted(deps, event)
  },
})
