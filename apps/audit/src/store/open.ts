/** Opens the configured audit store: libSQL (default) or MongoDB. */
import { createLibsqlStore } from './libsql/store.ts'
import { createMongoStore } from './mongodb/store.ts'
import type { AuditStore } from './types.ts'

export type StoreSettings =
  | { readonly kind: 'libsql'; readonly url: string; readonly authToken?: string }
  | { readonly kind: 'mongodb'; readonly url: string; readonly dbName?: string }

/** Connects and prepares the store (tables and triggers, or indexes). */
export const openStore = (settings: StoreSettings): Promise<AuditStore> =>
  settings.kind === 'mongodb' ? createMongoStore(settings) : createLibsqlStore(settings)
