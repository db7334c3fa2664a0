/** Where another Flotilla service listens: `<APP>_URL`, else localhost ports, else Fly's private network. */
import type { Env } from '../config/load-config.ts'

/** Default ports of the four services (BRIEF.md). */
export const SERVICE_PORTS = { auth: 3001, notifications: 3002, audit: 3003, analytics: 3004 } as const
export type ServiceName = keyof typeof SERVICE_PORTS

/**
 * The base URL of `target`. `<TARGET>_URL` wins (`AUTH_URL`); on Fly (`FLY_APP_NAME` set) it is
 * `http://flotilla-<target>.internal:<port>`; otherwise `http://127.0.0.1:<port>`. Call it from `config.ts`
 * (the one place that reads the environment) and pass the result on.
 * @example const AUTH_URL = serviceUrl('auth', process.env)
 */
export const serviceUrl = (target: ServiceName, env: Env): string => {
  const explicit = env[`${target.toUpperCase()}_URL`]?.trim()
  if (explicit) return explicit.replace(/\/+$/, '')
  const port = SERVICE_PORTS[target]
  return env.FLY_APP_NAME ? `http://flotilla-${target}.internal:${port}` : `http://127.0.0.1:${port}`
}
