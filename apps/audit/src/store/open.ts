/** Opens the configured audit store: libSQL (default), PostgreSQL or MongoDB. */
import type { Logger } from '@flotilla/service-kit'
import { createLibsqlStore } from './libsql/store.ts'
import type { AuditStore } from './types.ts'

export type StoreSettings =
  | { readonly kind: 'libsql'; readonly url: string; readonly authToken?: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'mongodb'; readonly url: string; readonly dbName?: string }

/**
 * Connects and prepares the store (tables and triggers — migrated once under a lock — or indexes). PostgreSQL
 * is not waited for: the service boots, its `/ready` names the database until it is up and migrated.
 */
export const openStore = async (
  settings: StoreSettings,
  logger?: Pick<Logger, 'warn' | 'info'>,
): Promise<AuditStore> => {
  // The other engines' drivers load only when configured: the mongodb driver alone holds ~30 MiB of RSS.
  if (settings.kind === 'mongodb') return (await import('./mongodb/store.ts')).createMongoStore(settings)
  if (settings.kind === 'postgres')
    return (await import('./postgres/store.ts')).createPostgresStore({
      ...settings,
      wait: false,
      ...(logger ? { logger } : {}),
    })
  return createLibsqlStore(settings)
}
