import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startService } from '@flotilla/service-kit'
import { readinessAroundConsumerStop } from '@flotilla/service-kit/testing'
import { cleanupStream, deleteKeysMatching, uniqueStreamName } from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { notificationsService } from './service.ts'

const REDIS_URL = 'redis://127.0.0.1:6379'
const redis = new Redis(REDIS_URL)
const prefix = `test:notifications-service:${crypto.randomUUID().slice(0, 8)}:`
const dir = mkdtempSync(join(tmpdir(), 'notifications-service-'))
const stream = uniqueStreamName('notifications-service')
afterAll(async () => {
  await deleteKeysMatching(redis, `${prefix}*`)
  await cleanupStream(redis, stream)
  redis.disconnect()
  rmSync(dir, { recursive: true, force: true })
})

describe('the notifications service, started by the runner', () => {
  it('answers /ready 503 naming the consumer once its consumer stops', async () => {
    const running = await startService(notificationsService, {
      env: {
        REDIS_URL,
        EVENTS_STREAM: stream,
        NOTIFICATIONS_REDIS_PREFIX: prefix,
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
      },
      port: false,
      telemetry: false,
    })
    try {
      const { running: before, stopped } = await readinessAroundConsumerStop(running)
      expect(before[0]).toBe(200)
      expect(before[1].checks.consumer?.status).toBe('ok')
      expect(stopped[0]).toBe(503)
      expect(stopped[1].checks.consumer).toMatchObject({ status: 'failed', detail: 'consumer is closed' })
      expect(stopped[1].checks.database?.status).toBe('ok')
    } finally {
      await running.close()
    }
  })
})
