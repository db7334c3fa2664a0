/** The apps as the run/deploy tooling sees them, derived from the service list in `@flotilla/contracts`. */
import { join } from 'node:path'
import { SERVICE_NAMES, SERVICES, type ServiceName, urlVariableOf } from '@flotilla/contracts'

export interface AppInfo {
  /** Directory under `apps/`, consumer group name, and Fly app suffix (`flotilla-<name>`). */
  readonly name: ServiceName
  /** Default `PORT`. */
  readonly port: number
  /** Variable other processes read to find this app (`serviceUrl` in the kit). */
  readonly urlVariable: string
  /** Pages printed by `bun run start`, relative to the app's base URL. */
  readonly pages: readonly { readonly label: string; readonly path: string }[]
  /** ANSI colour of the app's log prefix. */
  readonly colour: number
}

/** Repository root (two levels above this file). */
export const ROOT = join(import.meta.dir, '..', '..')

// Cyan, magenta, yellow, green, blue, red: one per app, in service-list order.
const COLOURS = [36, 35, 33, 32, 34, 31]

export const APPS: readonly AppInfo[] = SERVICE_NAMES.map((name, index) => ({
  name,
  port: SERVICES[name].port,
  urlVariable: urlVariableOf(name),
  pages: SERVICES[name].pages,
  colour: COLOURS[index % COLOURS.length] ?? 37,
}))

/** Path of an app's entry point. */
export const mainOf = (app: AppInfo): string => join(ROOT, 'apps', app.name, 'src', 'main.ts')

/**
 * The base URL other processes use for an app: `<APP>_URL` in `env`, else localhost on its default port. The
 * entry point passes its environment in (helpers never read `process.env`).
 */
export const appUrl = (app: AppInfo, env: Record<string, string | undefined>): string =>
  env[app.urlVariable] ?? `http://127.0.0.1:${app.port}`
