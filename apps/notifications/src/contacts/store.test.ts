import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { ContactRow } from '../db/schema.ts'
import { createTestApp, describeEachEngine, type TestApp } from '../testing.ts'

/** A row without its write time (each call stamps its own). */
const unstamped = (rows: Map<string, ContactRow>) =>
  [...rows.values()].map(({ updatedAt: _, ...row }) => row).sort((a, b) => a.userId.localeCompare(b.userId))

describeEachEngine((engine) => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp({ engine })
  })
  afterEach(async () => {
    await t.close()
  })

  describe('the contact directory', () => {
    it('predicts with expectMany exactly the rows upsertMany leaves: given fields replace, absent ones keep', async () => {
      const { contacts } = t.core
      await contacts.upsertMany([
        {
          userId: 'u-full',
          email: 'full@example.com',
          phone: '+15550000001',
          locale: 'de',
          timezone: 'Europe/Berlin',
        },
        { userId: 'u-mail', email: 'mail@example.com' },
      ])
      await contacts.setSettings('u-full', { quietHours: { start: '22:00', end: '07:00' } })
      const inputs = [
        { userId: 'u-full', email: 'new@example.com' },
        { userId: 'u-mail', phone: '+15550000002', locale: 'fr' },
        { userId: 'u-new', timezone: 'Asia/Tokyo' },
        { userId: 'u-none' },
      ]
      const expected = await contacts.expectMany(inputs)
      const written = await contacts.upsertMany(inputs)
      expect(unstamped(expected)).toEqual(unstamped(written))
      expect(written.get('u-full')).toMatchObject({
        email: 'new@example.com',
        phone: '+15550000001',
        locale: 'de',
        timezone: 'Europe/Berlin',
        quietStart: '22:00',
        quietEnd: '07:00',
      })
      expect(written.get('u-mail')).toMatchObject({
        email: 'mail@example.com',
        phone: '+15550000002',
        locale: 'fr',
      })
      expect(written.get('u-none')).toMatchObject({ email: null, phone: null, locale: null, timezone: null })
    })
  })
})
