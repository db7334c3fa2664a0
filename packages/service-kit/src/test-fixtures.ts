/** Shared test fixtures for the kit's own tests (not exported from the package). */
import { Writable } from 'node:stream'
import { createServiceApp, type ServiceAppOptions } from './app/service-app.ts'
import { createLogger, type LogLevel } from './logging/logger.ts'
import { createMetrics } from './metrics/metrics.ts'

/** A logger whose JSON lines land in `lines`. */
export const captureLogger = (service = 'test', level: LogLevel = 'debug') => {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: createLogger({ service, level, destination }) }
}

/** A service app with a captured logger and its own metrics registry. */
export const createTestServiceApp = (overrides: Partial<ServiceAppOptions> = {}) => {
  const { lines, logger } = captureLogger()
  const metrics = createMetrics('test')
  const app = createServiceApp({ name: 'test', version: '1.2.3', logger, metrics, ...overrides })
  return { app, lines, metrics }
}

/** `app.handle` wants an absolute URL; Elysia reads the path after the host. */
export const req = (path: string, init?: RequestInit) => new Request(`http://localhost${path}`, init)

export const jsonInit = (body: unknown, init: RequestInit = {}): RequestInit => ({
  method: 'POST',
  ...init,
  headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

/** Polls until `find` returns something (access logs and metrics are written after the response). */
export const eventually = async <T>(find: () => T | undefined | Promise<T | undefined>, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await find()
    if (found !== undefined && found !== false) return found
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Bun.sleep(2)
  }
}
