/** Liveness and readiness: `/health` says the process runs, `/ready` says its dependencies answer. */
import { Elysia, t } from 'elysia'

/** One readiness check: resolves when the dependency answers (a string it resolves to is shown as detail), throws when not: a check never passes by returning. */
export type ReadinessCheck = () => Promise<unknown>

export const HealthResponse = t.Object({
  status: t.Literal('ok'),
  service: t.String(),
  version: t.String(),
  uptime: t.Number({ description: 'seconds since the process started' }),
  features: t.Record(t.String(), t.Boolean(), {
    description: 'feature flags (`FEATURE_<NAME>`) and their values',
  }),
})
export type HealthResponse = typeof HealthResponse.static

export const CheckResult = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('failed')]),
  detail: t.Optional(t.String()),
  durationMs: t.Number(),
})
export type CheckResult = typeof CheckResult.static

export const ReadyResponse = t.Object({
  status: t.Union([t.Literal('ready'), t.Literal('unavailable')]),
  checks: t.Record(t.String(), CheckResult),
})
export type ReadyResponse = typeof ReadyResponse.static

const withTimeout = async (check: ReadinessCheck, timeoutMs: number): Promise<unknown> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([check(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs every check at once, each bounded by `timeoutMs`. */
export const runChecks = async (
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
): Promise<ReadyResponse> => {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now()
      try {
        const detail = await withTimeout(check, timeoutMs)
        const durationMs = Math.round(performance.now() - started)
        return [name, { status: 'ok', durationMs, ...(typeof detail === 'string' ? { detail } : {}) }]
      } catch (error) {
        const durationMs = Math.round(performance.now() - started)
        return [
          name,
          { status: 'failed', durationMs, detail: error instanceof Error ? error.message : String(error) },
        ]
      }
    }),
  )
  const ready = entries.every(([, result]) => result.status === 'ok')
  return { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(entries) }
}

export interface ProbeOptions {
  readonly service: string
  readonly version: string
  readonly readiness: Readonly<Record<string, ReadinessCheck>>
  readonly readinessTimeoutMs: number
  readonly features: Readonly<Record<string, boolean>>
}

/** `GET /health` and `GET /ready`. */
export const probes = ({ service, version, readiness, readinessTimeoutMs, features }: ProbeOptions) =>
  new Elysia({ name: '@flotilla/service-kit/probes' })
    .get(
      '/health',
      () => ({ status: 'ok' as const, service, version, uptime: Math.round(process.uptime()), features }),
      {
        response: HealthResponse,
        detail: { tags: ['operations'], summary: 'Liveness: the process is up', security: [] },
      },
    )
    .get(
      '/ready',
      async ({ set }) => {
        const result = await runChecks(readiness, readinessTimeoutMs)
        set.status = result.status === 'ready' ? 200 : 503
        return result
      },
      {
        response: { 200: ReadyResponse, 503: ReadyResponse },
        detail: {
          tags: ['operations'],
          summary: 'Readiness: every dependency answers (503 when one does not)',
          security: [],
        },
      },
    )
