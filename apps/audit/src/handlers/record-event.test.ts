import { afterAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEvent, type OpaqueEvent } from '@flotilla/contracts'
import { NonRetryableError } from '@flotilla/streams'
import { sampleEvent } from '../records/sample.ts'
import { createLibsqlStore } from '../store/libsql/store.ts'
import type { AuditStore } from '../store/types.ts'
import { createRecordEventHandler } from './record-event.ts'

const dir = await mkdtemp(join(tmpdir(), 'audit-handler-'))
const store = await createLibsqlStore({ url: `file:${join(dir, 'audit.db')}` })
afterAll(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

it('records known and opaque events with their envelope fields, once each on redelivery', async () => {
  const known = createEvent(
    'user.registered',
    { userId: 'u_1', email: 'a@example.com' },
    { source: 'monolith', tenantId: 'h1', actor: { type: 'user', id: 'u_1' }, correlationId: 'c-9' },
  )
  const opaque = sampleEvent('h1', 7)
  const handler = createRecordEventHandler({ store, now: () => new Date('2026-03-01T00:00:00.000Z') })
  const batch = [known, opaque].map((event, i) => ({ streamId: `1-${i}`, event }))
  expect(await handler.handleBatch(batch)).toBeUndefined()
  expect(await handler.handleBatch(batch)).toBeUndefined()
  const records = await store.chainRecords('h1', 0, 10)
  expect(records).toHaveLength(2)
  expect(records[0]).toMatchObject({
    eventId: known.id,
    type: 'user.registered',
    action: 'registered',
    tenantId: 'h1',
    actorType: 'user',
    actorId: 'u_1',
    correlationId: 'c-9',
    receivedAt: '2026-03-01T00:00:00.000Z',
    payload: known.payload,
  })
  expect(records[1]).toMatchObject({ eventId: opaque.id, type: 'order.placed', action: 'placed', seq: 2 })
})

it('fails only the event the store refuses, recording the rest of the batch', async () => {
  const poison = sampleEvent('h2', 1)
  const refusing: AuditStore = {
    ...store,
    append: (inputs) =>
      inputs.some((i) => i.eventId === poison.id)
        ? Promise.reject(new Error('refused'))
        : store.append(inputs),
  }
  const events = [sampleEvent('h2', 0), poison, sampleEvent('h2', 2)]
  const failed = await createRecordEventHandler({ store: refusing }).handleBatch(
    events.map((event, i) => ({ streamId: `2-${i}`, event })),
  )
  expect([...(failed ?? new Map()).keys()]).toEqual(['2-1'])
  expect((await store.chainRecords('h2', 0, 10)).map((r) => r.eventId)).toEqual([
    events[0]!.id,
    events[2]!.id,
  ])
})

it('dead-letters at once an event whose payload cannot be hashed (a JSON number too large: Infinity)', async () => {
  const bad = { ...sampleEvent('h3', 1), payload: JSON.parse('{"amount": 1e999}') } as OpaqueEvent
  const good = sampleEvent('h3', 2)
  const failed = await createRecordEventHandler({ store }).handleBatch([
    { streamId: '3-0', event: bad },
    { streamId: '3-1', event: good },
  ])
  const error = failed?.get('3-0')
  expect(error).toBeInstanceOf(NonRetryableError)
  expect((error as NonRetryableError).code).toBe('UNHASHABLE_EVENT')
  expect([...(failed?.keys() ?? [])]).toEqual(['3-0'])
  expect((await store.chainRecords('h3', 0, 10)).map((r) => r.eventId)).toEqual([good.id])
})
