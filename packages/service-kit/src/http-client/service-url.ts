/** Where another Flotilla service listens: `<APP>_URL`, else localhost ports, else Fly's private network. */
import { flyAppOf, SERVICES, type ServiceName, urlVariableOf } from '@flotilla/contracts'
import type { Env } from '../config/load-config.ts'

/**
 * The base URL of `target`. `<TARGET>_URL` wins (`AUTH_URL`); on Fly (`FLY_APP_NAME` set) it is
 * `http://flotilla-<target>.internal:<port>`; otherwise `http://127.0.0.1:<port>`. Ports come from the service
 * list. Call it from config (the one place that reads the environment) and pass the result on.
 * @example const AUTH_URL = serviceUrl('auth', process.env)
 */
export const serviceUrl = (target: ServiceName, env: Env): string => {
  const explicit = env[urlVariableOf(target)]?.trim()
  if (explicit) return explicit.replace(/\/+$/, '')
  const { port } = SERVICES[target]
  return env.FLY_APP_NAME ? `http://${flyAppOf(target)}.internal:${port}` : `http://127.0.0.1:${port}`
}
