/**
 * Queueing a local libSQL client's calls in JavaScript. The local driver runs every statement synchronously on
 * the event loop, so a statement that meets SQLite's write lock inside this same process waits in SQLite's busy
 * handler — blocking the very event loop the lock holder needs to commit. Waiting here instead costs nothing;
 * other processes on the file still meet SQLite's own lock and busy timeout, where waiting is harmless.
 */
import type { Client, InStatement, Transaction } from '@libsql/client'

/** A FIFO async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve()
  #waiting = 0

  /** Callers holding or waiting for the lock. */
  get pending(): number {
    return this.#waiting
  }

  /** Resolves, in call order, with the function that releases the lock (calling it twice is harmless). */
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

const shared = new Map<string, Mutex>()

/** The one mutex of a database in this process (by URL), for every client or connection opened on it. */
export const mutexFor = (url: string): Mutex => {
  let mutex = shared.get(url)
  if (!mutex) {
    mutex = new Mutex()
    shared.set(url, mutex)
  }
  return mutex
}

const isRead = (stmt: InStatement): boolean =>
  /^\s*select\b/i.test(typeof stmt === 'string' ? stmt : stmt.sql)

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

export interface QueueOptions {
  /**
   * `queue`: every call waits its turn (a single-connection client, busy while a transaction is open).
   * `direct`: a `SELECT` goes straight through (a pooled client in WAL mode, where readers never wait).
   */
  readonly reads: 'queue' | 'direct'
}

/**
 * Wraps a client so each write transaction, batch and statement takes `mutex` first; a transaction holds it
 * until it commits, rolls back or closes. Code inside a transaction must use the transaction object: a call
 * on the client would wait for itself.
 * @example const client = queueClient(createClient({ url }), new Mutex(), { reads: 'queue' })
 */
export const queueClient = (client: Client, mutex: Mutex, { reads }: QueueOptions): Client =>
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
      if (prop === 'execute')
        return (...args: Parameters<Client['execute']>) =>
          reads === 'direct' && isRead(args[0] as InStatement)
            ? target.execute(...args)
            : mutex.run(() => target.execute(...args))
      if (prop === 'batch' || prop === 'migrate' || prop === 'executeMultiple')
        return (...args: unknown[]) =>
          mutex.run(() => (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args))
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
