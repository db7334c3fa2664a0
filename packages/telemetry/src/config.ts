/** The environment variables the telemetry setup reads (composed into each app's config schema). */
import { type Static, Type } from '@sinclair/typebox'

/**
 * Telemetry settings, named as the OpenTelemetry specification names them. Compose into an app's config:
 * `Type.Composite([BaseConfigSchema, TelemetryConfigSchema, AppSchema])`.
 */
export const TelemetryConfigSchema = Type.Object({
  /** Base URL of an OTLP/HTTP collector (`/v1/traces` is appended). Unset: spans are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Extra headers for the collector, `key=value` pairs separated by commas (API keys of hosted backends). */
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(Type.String()),
  /** Fraction of new traces to sample, 0..1 (a sampled parent is always followed). @defaultValue 1 */
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
})
export type TelemetryConfig = Static<typeof TelemetryConfigSchema>

/** Parses `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values URL-encoded per the specification). */
export const parseOtlpHeaders = (value: string | undefined): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}

/**
 * The `initTelemetry` options the variables ask for (absent ones left out, so defaults apply).
 * @example initTelemetry({ service: 'auth', ...telemetryOptionsOf(config) })
 */
export const telemetryOptionsOf = (config: TelemetryConfig) => ({
  ...(config.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
  ...(config.OTEL_EXPORTER_OTLP_HEADERS ? { headers: config.OTEL_EXPORTER_OTLP_HEADERS } : {}),
  ...(config.OTEL_TRACES_SAMPLER_ARG !== undefined ? { sampleRatio: config.OTEL_TRACES_SAMPLER_ARG } : {}),
})
