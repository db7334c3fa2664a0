/**
 * One writer at a time per database file in this process. The local libSQL driver runs statements
 * synchronously, so a statement waiting on SQLite's busy handler blocks the event loop — and with it the
 * transaction (on another pooled connection of this same process) that holds the lock: a deadlock until the
 * busy timeout. Queueing writes here instead lets them wait without blocking; other processes still meet
 * SQLite's own lock and busy timeout, where waiting is harmless.
 */
import type { Client, InStatement, Transaction } from '@libsql/client'

/** A FIFO async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve()

  /** Resolves with the function that releases the lock (idempotent). */
  lock(): Promise<() => void> {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const previous = this.#tail
    this.#tail = previous.then(() => held)
    let released = false
    return previous.then(() => () => {
      if (released) return
      released = true
      release()
    })
  }
}

const mutexes = new Map<string, Mutex>()

/** The process-wide mutex of one database (by URL). */
export const mutexFor = (url: string): Mutex => {
  let mutex = mutexes.get(url)
  if (!mutex) {
    mutex = new Mutex()
    mutexes.set(url, mutex)
  }
  return mutex
}

const isRead = (stmt: InStatement): boolean =>
  /^\s*select\b/i.test(typeof stmt === 'string' ? stmt : stmt.sql)

/** The transaction, releasing the lock once it commits, rolls back or closes. */
const releasingOnEnd = (tx: Transaction, release: () => void): Transaction =>
  new Proxy(tx, {
    get(target, prop, receiver) {
      if (prop === 'commit' || prop === 'rollback') {
        return async () => {
          try {
            await target[prop]()
          } finally {
            release()
          }
        }
      }
      if (prop === 'close') {
        return () => {
          try {
            target.close()
          } finally {
            release()
          }
        }
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })

/**
 * Wraps a client so write transactions, batches and writing statements take the mutex first. Reads go
 * straight through (WAL readers never wait for the writer). Statements inside a transaction use the
 * transaction object, which already holds the lock.
 */
export const serializeWrites = (client: Client, mutex: Mutex): Client =>
  new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return async (...args: Parameters<Client['transaction']>) => {
          const release = await mutex.lock()
          try {
            return releasingOnEnd(await target.transaction(...args), release)
          } catch (error) {
            release()
            throw error
          }
        }
      }
      if (prop === 'execute') {
        return async (...args: Parameters<Client['execute']>) => {
          const [stmt] = args
          if (
            typeof stmt === 'object' && stmt !== null && 'sql' in stmt ? isRead(stmt) : isRead(stmt as string)
          ) {
            return target.execute(...args)
          }
          const release = await mutex.lock()
          try {
            return await target.execute(...args)
          } finally {
            release()
          }
        }
      }
      if (prop === 'batch' || prop === 'migrate' || prop === 'executeMultiple') {
        return async (...args: unknown[]) => {
          const release = await mutex.lock()
          try {
            return await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args)
          } finally {
            release()
          }
        }
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
