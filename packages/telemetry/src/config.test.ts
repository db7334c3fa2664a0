import { describe, expect, it } from 'bun:test'
import { parseOtlpHeaders, telemetryOptionsOf } from './config.ts'

describe('telemetry config', () => {
  it('turns the OTEL_* variables into initTelemetry options, leaving absent ones out', () => {
    expect(telemetryOptionsOf({})).toEqual({})
    expect(
      telemetryOptionsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc',
        OTEL_TRACES_SAMPLER_ARG: 0,
      }),
    ).toEqual({ endpoint: 'http://127.0.0.1:4318', headers: 'x-api-key=abc', sampleRatio: 0 })
  })

  it('parses collector headers, URL-decoding values and skipping malformed pairs', () => {
    expect(parseOtlpHeaders('a=1, b=x%20y,broken,=nokey')).toEqual({ a: '1', b: 'x y' })
  })
})
