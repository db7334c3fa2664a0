/** An AsyncLocalStorage context manager that can also enter a context for the rest of a request. */
import { AsyncLocalStorage } from 'node:async_hooks'
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api'

/**
 * OpenTelemetry's `ContextManager` on `AsyncLocalStorage`, plus `enter(context)`. Elysia has no hook that wraps
 * the handler, so the HTTP plugin enters the server span's context in `onRequest`; Bun runs each request of
 * `Bun.serve` in its own async context, so the entered context stays with that request.
 */
export class RequestContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>()

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(context, () => fn.call(thisArg, ...args))
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target
    const fn = target as (...args: unknown[]) => unknown
    const run = this.#storage.run.bind(this.#storage)
    return function (this: unknown, ...args: unknown[]) {
      return run(context, () => fn.apply(this, args))
    } as T
  }

  /** Makes `context` the active one for the rest of the current async execution. */
  enter(context: Context): void {
    this.#storage.enterWith(context)
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.#storage.disable()
    return this
  }
}
