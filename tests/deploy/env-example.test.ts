/**
 * Every environment variable an app reads is documented: its config schema's keys, its feature flags
 * (`FEATURE_<NAME>`) and the `<SERVICE>_URL` of each service it calls (`serviceUrl`) appear in the root
 * `.env.example` or in `apps/<app>/.env.example` (as `NAME=…` or commented out as `# NAME=…`).
 */
import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AnalyticsConfigSchema, analyticsService } from '@flotilla/analytics'
import { AuditConfigSchema, auditService } from '@flotilla/audit'
import { AuthConfigSchema, authService } from '@flotilla/auth'
import type { ServiceName } from '@flotilla/contracts'
import { NotificationsConfigSchema, notificationsService } from '@flotilla/notifications'
import { featureVariable } from '@flotilla/service-kit'
import { APPS, ROOT } from '../../scripts/lib/apps.ts'

const READS: Record<ServiceName, { schema: { properties: object }; features?: object | undefined }> = {
  auth: { schema: AuthConfigSchema, features: authService.features },
  notifications: { schema: NotificationsConfigSchema, features: notificationsService.features },
  audit: { schema: AuditConfigSchema, features: auditService.features },
  analytics: { schema: AnalyticsConfigSchema, features: analyticsService.features },
}

/** Set by the platform, never by an operator: `serviceUrl` reads `FLY_APP_NAME` to know it runs on Fly. */
const PLATFORM = new Set(['FLY_APP_NAME'])

const documented = (file: string): Set<string> =>
  existsSync(file)
    ? new Set([...readFileSync(file, 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''))
    : new Set()

/** `serviceUrl('auth', env)` anywhere in the app's source reads `AUTH_URL`. */
const serviceUrlVariables = (app: ServiceName): string[] => {
  const names = new Set<string>()
  for (const file of new Bun.Glob('src/**/*.ts').scanSync({ cwd: join(ROOT, 'apps', app) })) {
    if (file.endsWith('.test.ts')) continue
    const source = readFileSync(join(ROOT, 'apps', app, file), 'utf8')
    for (const match of source.matchAll(/serviceUrl\(\s*'([a-z]+)'/g))
      names.add(`${match[1]?.toUpperCase()}_URL`)
  }
  return [...names]
}

describe.each(APPS.map((app) => app.name))('%s: .env.example', (name) => {
  it('documents every variable the app reads (root .env.example + its own)', () => {
    const known = new Set([
      ...documented(join(ROOT, '.env.example')),
      ...documented(join(ROOT, 'apps', name, '.env.example')),
    ])
    const { schema, features } = READS[name]
    const read = [
      ...Object.keys(schema.properties),
      ...Object.keys(features ?? {}).map(featureVariable),
      ...serviceUrlVariables(name),
    ]
    expect(read.filter((variable) => !known.has(variable) && !PLATFORM.has(variable))).toEqual([])
  })
})
