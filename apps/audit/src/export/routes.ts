/** GET /v1/audit/export — every matching record as NDJSON or CSV, streamed with flat memory. */

import { type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { ERRORS, ErrorBody, READ_ERRORS } from '../errors.ts'
import { RecordQuery, toFilter } from '../events/model.ts'
import type { AuditStore } from '../store/types.ts'
import { CONTENT_TYPES } from './encode.ts'
import { exportStream } from './service.ts'

export interface ExportRoutesDeps {
  readonly store: AuditStore
  readonly auth: CallerAuthOptions
  /** Records per store page. @defaultValue 1000 */
  readonly pageSize?: number | undefined
  readonly onExported?: ((records: number) => void) | undefined
}

const ExportQuery = t.Object({
  ...RecordQuery.properties,
  format: t.Optional(t.Union([t.Literal('ndjson'), t.Literal('csv')], { default: 'ndjson' })),
})

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')

export const exportRoutes = ({ store, auth, pageSize, onExported }: ExportRoutesDeps) =>
  new Elysia().use(callerAuth(auth)).get(
    '/v1/audit/export',
    async ({ caller, query }) => {
      const tenantId = tenantScope(caller, query.tenantId)
      const filter = toFilter(query, tenantId)
      const format = query.format ?? 'ndjson'
      const total = await store.count(filter)
      const body = exportStream({
        store,
        filter,
        format,
        ...(pageSize ? { pageSize } : {}),
        ...(onExported ? { onDone: onExported } : {}),
      })
      const name = `audit-${(tenantId ?? 'all').replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp(new Date())}.${format}`
      return new Response(body, {
        headers: {
          'content-type': CONTENT_TYPES[format],
          'content-disposition': `attachment; filename="${name}"`,
          // Known before streaming starts, so a client can show progress.
          'x-total-count': String(total),
          'cache-control': 'no-store',
        },
      })
    },
    {
      query: ExportQuery,
      response: { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      detail: {
        summary: 'Export audit records (NDJSON or CSV)',
        description: ERRORS.describe(
          'Same filters as /v1/audit/events; newest first; every field including seq, prevHash and hash. Streamed page by page (memory stays flat). `X-Total-Count` gives the number of records up front. CSV cells starting with = + - @ tab or CR are prefixed with a quote so spreadsheets never run them.',
          'INVALID_TIME',
          'INVALID_RANGE',
          ...READ_ERRORS,
        ),
        tags: ['audit'],
        security: [{ bearer: [] }],
        responses: {
          200: {
            description: 'the export, as an attachment',
            content: { 'application/x-ndjson': {}, 'text/csv': {} },
          },
        },
      },
    },
  )
