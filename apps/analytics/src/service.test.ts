import { describe, expect, it } from 'bun:test'
import { readinessAroundConsumerStop } from '@flotilla/service-kit/testing'
import { createTestApp } from './testing.ts'

describe('the analytics service, started by the runner', () => {
  it('answers /ready 503 naming the consumer once its consumer stops', async () => {
    const h = await createTestApp()
    try {
      await h.deps.consumer.start()
      const { running: before, stopped } = await readinessAroundConsumerStop({
        app: h.app,
        consumer: h.deps.consumer,
      })
      expect(before[0]).toBe(200)
      expect(before[1].checks.consumer?.status).toBe('ok')
      expect(stopped[0]).toBe(503)
      expect(stopped[1].checks.consumer).toMatchObject({ status: 'failed', detail: 'consumer is closed' })
      expect(stopped[1].checks.store?.status).toBe('ok')
    } finally {
      await h.close()
    }
  })
})
