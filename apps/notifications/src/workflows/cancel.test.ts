import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createTestApp, describeEachEngine, type TestApp } from '../testing.ts'

describeEachEngine((engine) => {
  describe('cancel racing the request it names', () => {
    let t: TestApp
    beforeEach(async () => {
      t = await createTestApp({ engine })
    })
    afterEach(async () => {
      await t.close()
    })

    it('cancels a delivery recorded while the cancel runs, never answering "nothing left to cancel" for a waiting one', async () => {
      // Another replica records the request while the cancel is under way: the cancel's update may miss the
      // row and its read find it (PostgreSQL reads each statement at its own snapshot).
      const answers: { cancelled: number; statuses: string[] }[] = []
      for (let i = 0; i < 40; i++) {
        const idempotencyKey = `race-${i}`
        const event = createEvent(
          'notification.requested',
          {
            recipient: { userId: `u-race-${i}`, email: `race${i}@example.com` },
            template: 'password-reset',
            data: { resetUrl: 'https://app.example.com/reset/1', expiresInMinutes: 30 },
            delaySeconds: 3600,
            idempotencyKey,
          },
          { source: 'monolith' },
        )
        const cancelling = (async () => {
          // What a client does: 404 (no delivery yet) → ask again; the first answer naming a delivery counts.
          for (;;) {
            const { cancelled, all } = await t.core.cancel(idempotencyKey)
            if (all.length > 0) return { cancelled: cancelled.length, statuses: all.map((row) => row.status) }
          }
        })()
        await t.handle(event)
        answers.push(await cancelling)
      }
      expect(answers.filter((a) => a.cancelled !== 1)).toEqual([])
      expect(answers.every((a) => a.statuses.join() === 'cancelled')).toBe(true)
      expect(await t.core.deliveries.countByStatus()).toEqual({ cancelled: 40 })
    }, 60_000)
  })
})
