/** Test data: record inputs and events with sensible defaults (used by tests and benchmarks only). */
import { createCustomEvent, type OpaqueEvent } from '@flotilla/contracts'
import type { RecordInput } from './model.ts'

let counter = 0

/** A record input; every call gets a fresh event id and a later occurredAt. */
export const sampleInput = (overrides: Partial<RecordInput> = {}): RecordInput => {
  counter += 1
  const occurredAt = new Date(Date.UTC(2026, 0, 1) + counter * 1000).toISOString()
  return {
    eventId: Bun.randomUUIDv7(),
    type: 'user.registered',
    version: 1,
    action: 'registered',
    tenantId: 'tenant-a',
    actorType: 'user',
    actorId: `u_${counter % 7}`,
    subjectType: 'user',
    subjectId: `u_${counter % 5}`,
    source: 'monolith',
    occurredAt,
    receivedAt: new Date().toISOString(),
    correlationId: null,
    causationId: null,
    payload: { n: counter, note: 'sample' },
    ...overrides,
  }
}

/** An opaque event for a tenant (or the global chain when `tenantId` is undefined). */
export const sampleEvent = (tenantId: string | undefined, n: number, type = 'order.placed'): OpaqueEvent =>
  createCustomEvent(
    type,
    { n, amount: n * 3 },
    {
      source: 'monolith',
      ...(tenantId ? { tenantId } : {}),
      actor: { type: 'user', id: `u_${n % 13}` },
      subject: { type: 'order', id: `o_${n}` },
      correlationId: `corr-${n % 17}`,
    },
  )
