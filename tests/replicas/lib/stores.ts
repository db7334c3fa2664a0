/**
 * Where each replicated app keeps its data in a run: one line per app. `postgres` gives the app a fresh database
 * of its own on the shared PostgreSQL (dropped afterwards); `libsql` gives its replicas one shared libSQL file.
 */
import { join } from 'node:path'
import { SQL } from 'bun'

export const REPLICATED_APPS = ['notifications', 'audit', 'analytics'] as const
export type ReplicatedApp = (typeof REPLICATED_APPS)[number]

type StoreKind = 'postgres' | 'libsql'

/** The store of each app in the replica suite and the benchmark. */
export const STORES: Readonly<Record<ReplicatedApp, StoreKind>> = {
  notifications: 'postgres',
  audit: 'postgres',
  analytics: 'postgres',
}

/** The PostgreSQL every suite uses (`.ci/run` starts it); the run's databases are created next to `test`. */
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

export interface RunStore {
  /** The app's `<APP>_DB_URL`. */
  readonly env: Record<string, string>
  /** Drops what `openRunStore` created (a database; a libSQL file goes with the run's folder). Safe to call twice. */
  drop(): Promise<void>
}

/** Creates the app's store for a run named `id` (lowercase letters, digits, `_`) under `dir`. */
export const openRunStore = async (app: ReplicatedApp, id: string, dir: string): Promise<RunStore> => {
  const variable = `${app.toUpperCase()}_DB_URL`
  if (STORES[app] === 'libsql')
    return { env: { [variable]: `file:${join(dir, `${app}.db`)}` }, drop: async () => {} }
  const database = `replicas_${id}_${app}`
  if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`unsafe database name ${database}`)
  const admin = new SQL(POSTGRES_URL)
  try {
    await admin.unsafe(`CREATE DATABASE "${database}"`)
  } finally {
    await admin.close()
  }
  let dropped: Promise<void> | undefined
  return {
    env: { [variable]: withDatabase(POSTGRES_URL, database) },
    drop() {
      dropped ??= (async () => {
        const sql = new SQL(POSTGRES_URL)
        try {
          await sql.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
        } finally {
          await sql.close()
        }
      })()
      return dropped
    },
  }
}
