import { describe, expect, it } from 'bun:test'
import { TRACEPARENT_PATTERN } from '@flotilla/contracts'
import { continueTrace } from './trace.ts'

describe('continueTrace', () => {
  it('keeps the caller’s trace id and sampling flag with a new span id', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'
    const { traceId, traceparent } = continueTrace(incoming)
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/)
    expect(traceparent).not.toBe(incoming)
  })

  it('starts a new sampled trace when the header is missing, malformed or all zeros', () => {
    for (const bad of [undefined, null, 'nonsense', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`]) {
      const { traceId, traceparent } = continueTrace(bad)
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(traceId).not.toBe('0'.repeat(32))
      expect(traceparent.endsWith('-01')).toBe(true)
      expect(new RegExp(TRACEPARENT_PATTERN).test(traceparent)).toBe(true)
    }
  })
})
