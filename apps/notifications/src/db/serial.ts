/**
 * One libSQL connection per process for a local file, used by one caller at a time.
 *
 * Why one connection: `PRAGMA synchronous` and `busy_timeout` are per connection, and the local client's pool
 * opens more connections on demand (up to 20) without them — so most commits ran with `synchronous = FULL` (an
 * fsync each) and no busy timeout, on connections whose page caches another connection's writes kept emptying.
 * Statements run synchronously on the event loop anyway, so a second connection never ran anything in parallel.
 *
 * Why the queue: the single connection belongs to an open transaction until it commits, and the client refuses
 * (`TRANSACTION_ACTIVE`) any other call meanwhile. Here every call waits its turn in JavaScript instead; other
 * processes on the same file still meet SQLite's own lock and busy timeout.
 */
import type { Client, Transaction } from '@libsql/client'

/** A FIFO async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve()
  #waiting = 0

  /** Callers holding or waiting for the lock (tests). */
  get pending(): number {
    return this.#waiting
  }

  /** Resolves with the function that releases the lock (idempotent). */
  lock(): Promise<() => void> {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const previous = this.#tail
    this.#tail = previous.then(() => held)
    this.#waiting++
    let released = false
    return previous.then(() => () => {
      if (released) return
      released = true
      this.#waiting--
      release()
    })
  }

  /** Runs `fn` holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lock()
    try {
      return await fn()
    } finally {
      release()
    }
  }
}

/** The transaction, giving the lock back once it commits, rolls back or closes. */
const releasingOnEnd = (tx: Transaction, release: () => void): Transaction =>
  new Proxy(tx, {
    get(target, prop) {
      if (prop === 'commit' || prop === 'rollback')
        return async () => {
          try {
            await target[prop]()
          } finally {
            release()
          }
        }
      if (prop === 'close')
        return () => {
          try {
            target.close()
          } finally {
            release()
          }
        }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })

/**
 * Wraps a single-connection client so each call (a statement, a batch, a whole transaction) takes the mutex.
 * Code inside a transaction must use the transaction object: a call on the client would wait for itself.
 */
export const serialized = (client: Client, mutex = new Mutex()): Client =>
  new Proxy(client, {
    get(target, prop) {
      if (prop === 'transaction')
        return async (...args: Parameters<Client['transaction']>) => {
          const release = await mutex.lock()
          try {
            return releasingOnEnd(await target.transaction(...args), release)
          } catch (error) {
            release()
            throw error
          }
        }
      if (prop === 'execute' || prop === 'batch' || prop === 'migrate' || prop === 'executeMultiple')
        return (...args: unknown[]) =>
          mutex.run(() => (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args))
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
