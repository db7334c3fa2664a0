/** Test helpers (`@flotilla/sdk/testing`): a PostgreSQL schema of its own per test, dropped afterwards. */
import { randomBytes } from 'node:crypto'
import postgres, { type Sql } from 'postgres'

/** The database the tests use unless `DATABASE_URL` says otherwise (trust auth on the build machines). */
export const TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

export interface TestSchema {
  /** The schema's name (`t_<random>`). */
  readonly schema: string
  /** A client whose `search_path` is the schema, so unqualified tables (the outbox) live there. */
  readonly sql: Sql
  /** Opens another client on the same schema (a second relay, a second app instance). */
  connect(options?: { max?: number }): Sql
  /** Closes every client it opened and drops the schema with everything in it. Safe to call twice. */
  drop(): Promise<void>
}

/**
 * Creates a fresh schema in the test database.
 * @example const db = await createTestSchema(); afterEach(() => db.drop())
 */
export const createTestSchema = async (
  url = process.env.DATABASE_URL ?? TEST_DATABASE_URL,
): Promise<TestSchema> => {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const clients: Sql[] = []
  const connect = ({ max = 4 }: { max?: number } = {}) => {
    const client = postgres(url, { max, onnotice: () => {}, connection: { search_path: schema } })
    clients.push(client)
    return client
  }
  const admin = postgres(url, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create schema "${schema}"`)
  // Who made it: a schema left behind by a crashed test names its creator.
  const creator = (new Error().stack ?? '').split('\n').slice(2, 5).join(' | ').replaceAll("'", '')
  await admin.unsafe(`comment on schema "${schema}" is '${`pid ${process.pid}: ${creator}`.slice(0, 500)}'`)
  let dropped: Promise<void> | undefined
  return {
    schema,
    sql: connect(),
    connect,
    drop() {
      dropped ??= (async () => {
        await Promise.all(clients.map((c) => c.end({ timeout: 1 }).catch(() => {})))
        await admin.unsafe(`drop schema if exists "${schema}" cascade`)
        await admin.end({ timeout: 1 })
      })()
      return dropped
    },
  }
}
