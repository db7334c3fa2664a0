import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Writable } from 'node:stream'
import { InMemorySpanExporter, initTelemetry, inSpan, type Telemetry } from '@flotilla/telemetry'
import { trace } from '@opentelemetry/api'
import { createLogger } from './logger.ts'

let telemetry: Telemetry
beforeAll(() => {
  telemetry = initTelemetry({ service: 'logger-test', exporter: new InMemorySpanExporter() })
})
afterAll(() => telemetry.close())

const capture = () => {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    },
  })
  return { lines, logger: createLogger({ service: 'logger-test', destination }) }
}

describe('log lines and traces', () => {
  it('carries trace_id and span_id of the active span on every line inside it', async () => {
    const { lines, logger } = capture()
    let expected: { traceId: string; spanId: string } | undefined
    await inSpan('work', () => {
      expected = trace.getActiveSpan()?.spanContext()
      logger.info('inside')
      logger.child({ requestId: 'r1' }).warn('inside, from a child logger')
    })
    expect(expected?.traceId).toMatch(/^[0-9a-f]{32}$/)
    for (const line of lines) {
      expect(line.trace_id).toBe(expected?.traceId)
      expect(line.span_id).toBe(expected?.spanId)
    }
    expect(lines).toHaveLength(2)
  })

  it('adds nothing outside a span', () => {
    const { lines, logger } = capture()
    logger.info('outside')
    expect(lines[0]).not.toHaveProperty('trace_id')
    expect(lines[0]).not.toHaveProperty('span_id')
  })
})
