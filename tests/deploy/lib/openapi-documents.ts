/** Builds each app's OpenAPI document in-process: the real declaration, started by the runner without listening. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyticsService } from '@flotilla/analytics'
import { auditService } from '@flotilla/audit'
import { authService } from '@flotilla/auth'
import type { ServiceName } from '@flotilla/contracts'
import { notificationsService } from '@flotilla/notifications'
import { startService } from '@flotilla/service-kit'
import { uniqueStreamName } from '@flotilla/streams/testing'
import { isolatedEnv } from './isolation.ts'

const DECLARATIONS = {
  auth: authService,
  notifications: notificationsService,
  audit: auditService,
  analytics: analyticsService,
} as const

/** An OpenAPI document as JSON. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> }

/** Each app's `GET /swagger/json` (with `headers`), keyed by app name. */
export const openApiDocuments = async (
  headers: Record<string, string> = {},
): Promise<Record<ServiceName, OpenApiDocument>> => {
  const run = uniqueStreamName('openapi-docs')
  const dir = mkdtempSync(join(tmpdir(), 'openapi-docs-'))
  const documents = {} as Record<ServiceName, OpenApiDocument>
  try {
    for (const [name, declaration] of Object.entries(DECLARATIONS) as [
      ServiceName,
      (typeof DECLARATIONS)[ServiceName],
    ][]) {
      const running = await startService(declaration as typeof auditService, {
        env: {
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          ...isolatedEnv(run),
          DATA_DIR: join(dir, name),
          LOG_LEVEL: 'silent',
        },
        port: false,
        telemetry: false,
      })
      try {
        const response = await running.app.handle(new Request('http://localhost/swagger/json', { headers }))
        documents[name] = (await response.json()) as OpenApiDocument
      } finally {
        await running.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return documents
}
