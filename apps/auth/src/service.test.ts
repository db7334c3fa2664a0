import { afterAll, describe, expect, it } from 'bun:test'
import { startService } from '@flotilla/service-kit'
import { readinessAroundConsumerStop } from '@flotilla/service-kit/testing'
import { cleanupStream, deleteKeysMatching, uniqueStreamName } from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { authService } from './service.ts'

const REDIS_URL = 'redis://127.0.0.1:6379'
const redis = new Redis(REDIS_URL)
const prefix = `test:auth-service:${crypto.randomUUID().slice(0, 8)}:`
const stream = uniqueStreamName('auth-service')
afterAll(async () => {
  await deleteKeysMatching(redis, `${prefix}*`)
  await cleanupStream(redis, stream)
  redis.disconnect()
})

describe('the auth service, started by the runner', () => {
  it('answers /ready 503 naming the consumer once its consumer stops', async () => {
    const running = await startService(authService, {
      env: { REDIS_URL, EVENTS_STREAM: stream, AUTH_REDIS_PREFIX: prefix, LOG_LEVEL: 'silent' },
      port: false,
      telemetry: false,
    })
    try {
      const { running: before, stopped } = await readinessAroundConsumerStop(running)
      expect(before[0]).toBe(200)
      expect(before[1].checks.consumer?.status).toBe('ok')
      expect(stopped[0]).toBe(503)
      expect(stopped[1].checks.consumer).toMatchObject({ status: 'failed', detail: 'consumer is closed' })
      expect(stopped[1].checks.signingKey?.status).toBe('ok')
    } finally {
      await running.close()
    }
  })
})
