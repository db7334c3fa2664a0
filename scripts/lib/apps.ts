/** The four apps as the run/deploy tooling sees them: name, default port, and the pages worth opening. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export interface AppInfo {
  /** Directory under `apps/`, consumer group name, and Fly app suffix (`flotilla-<name>`). */
  readonly name: 'auth' | 'notifications' | 'audit' | 'analytics'
  /** Default `PORT` (BRIEF.md). */
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

export const APPS: readonly AppInfo[] = [
  {
    name: 'auth',
    port: 3001,
    urlVariable: 'AUTH_URL',
    pages: [{ label: 'Swagger', path: '/swagger' }],
    colour: 36,
  },
  {
    name: 'notifications',
    port: 3002,
    urlVariable: 'NOTIFICATIONS_URL',
    pages: [
      { label: 'Swagger', path: '/swagger' },
      { label: 'email outbox', path: '/v1/outbox' },
    ],
    colour: 35,
  },
  {
    name: 'audit',
    port: 3003,
    urlVariable: 'AUDIT_URL',
    pages: [{ label: 'Swagger', path: '/swagger' }],
    colour: 33,
  },
  {
    name: 'analytics',
    port: 3004,
    urlVariable: 'ANALYTICS_URL',
    pages: [
      { label: 'Swagger', path: '/swagger' },
      { label: 'dashboard', path: '/dashboard' },
    ],
    colour: 32,
  },
]

/** Path of an app's entry point. */
export const mainOf = (app: AppInfo): string => join(ROOT, 'apps', app.name, 'src', 'main.ts')

/** True when the app's entry point exists yet. */
export const hasMain = (app: AppInfo): boolean => existsSync(mainOf(app))

/** The base URL other processes use for an app: `<APP>_URL`, else localhost on its default port. */
export const appUrl = (app: AppInfo, env: Record<string, string | undefined> = process.env): string =>
  env[app.urlVariable] ?? `http://127.0.0.1:${app.port}`
