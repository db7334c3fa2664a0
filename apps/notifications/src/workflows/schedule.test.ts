import { describe, expect, it } from 'bun:test'
import { NonRetryableError } from '@flotilla/streams'
import type { NotificationRequest } from '../dispatch/model.ts'
import { dueTimeOf } from './schedule.ts'

const request = (extra: Partial<NotificationRequest>): NotificationRequest => ({
  requestId: 'r1',
  eventType: 'notification.requested',
  template: 'welcome',
  recipient: { userId: 'u1' },
  data: {},
  occurredAt: '2026-12-01T10:00:00.000Z',
  ...extra,
})
const codeOf = (fn: () => unknown) => {
  try {
    fn()
    return undefined
  } catch (error) {
    return error instanceof NonRetryableError ? error.code : String(error)
  }
}

describe('when a request is due', () => {
  it('counts delaySeconds from the event, so every redelivery computes the same time', () => {
    expect(dueTimeOf(request({ delaySeconds: 90 }))).toBe(Date.parse('2026-12-01T10:01:30.000Z'))
    expect(dueTimeOf(request({ sendAt: '2026-12-05T08:00:00Z' }))).toBe(Date.parse('2026-12-05T08:00:00Z'))
    expect(dueTimeOf(request({}))).toBeUndefined()
  })

  it('refuses both at once and anything past 30 days after the event, for good (dead letter)', () => {
    expect(codeOf(() => dueTimeOf(request({ delaySeconds: 5, sendAt: '2026-12-05T08:00:00Z' })))).toBe(
      'SCHEDULE_INVALID',
    )
    expect(codeOf(() => dueTimeOf(request({ sendAt: '2027-01-01T10:00:01Z' })))).toBe('SCHEDULE_TOO_FAR')
    expect(dueTimeOf(request({ sendAt: '2026-12-31T10:00:00Z' }))).toBe(Date.parse('2026-12-31T10:00:00Z'))
  })
})
