/** Test helpers for apps built on the kit (`@flotilla/service-kit/testing`). */
import { afterAll, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRedisConnection } from '@flotilla/streams'
import { cleanupStream, deleteKeysMatching, TEST_REDIS_URL, uniqueStreamName } from '@flotilla/streams/testing'
import type { AnyElysia } from 'elysia'
import type { ReadyResponse } from './app/probes.ts'
import type { FeatureFlag, ServiceConfig, ServiceDeclaration } from './runtime/declaration.ts'
import { startService } from './runtime/runner.ts'

interface Probed {
  readonly app: { handle(request: Request): Promise<Response> | Response }
  readonly consumer: { close(): Promise<void>; status(): { state: string } } | undefined
}

/**
 * `/ready` of a started service while its consumer runs, then after the consumer is closed: what every app's
 * readiness test compares (200, then 503 naming the consumer).
 */
export const readinessAroundConsumerStop = async (
  running: Probed,
): Promise<{ running: [number, ReadyResponse]; stopped: [number, ReadyResponse] }> => {
  const probe = async (): Promise<[number, ReadyResponse]> => {
    const response = await running.app.handle(new Request('http://service.test/ready'))
    return [response.status, (await response.json()) as ReadyResponse]
  }
  if (!running.consumer) throw new Error('the service has no consumer')
  const before = await probe()
  await running.consumer.close()
  return { running: before, stopped: await probe() }
}

export interface ReadinessTestOptions {
  /** The variable of the service's own Redis key prefix (`AUDIT_REDIS_PREFIX`). */
  readonly prefixVariable: string
  /** A readiness check of the service's own that must still pass once the consumer stops (`store`). */
  readonly ownCheck: string
  /** @defaultValue TEST_REDIS_URL (`REDIS_URL`, else redis://127.0.0.1:6379) */
  readonly redisUrl?: string
}

/**
 * The readiness test every app runs through the runner: started from its declaration on its own stream, key
 * prefix and DATA_DIR, `/ready` answers 200; once its consumer stops, 503 naming the consumer.
 */
export const itIsNotReadyWithoutItsConsumer = <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
  options: ReadinessTestOptions,
): void => {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL
  const redis = createRedisConnection(redisUrl, 'command')
  const prefix = `test:${declaration.name}-service:${crypto.randomUUID().slice(0, 8)}:`
  const stream = uniqueStreamName(`${declaration.name}-service`)
  const dir = mkdtempSync(join(tmpdir(), `${declaration.name}-service-`))
  afterAll(async () => {
    await deleteKeysMatching(redis, `${prefix}*`)
    await cleanupStream(redis, stream)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })
  it('answers /ready 503 naming the consumer once its consumer stops', async () => {
    const env = {
      REDIS_URL: redisUrl,
      EVENTS_STREAM: stream,
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      [options.prefixVariable]: prefix,
    }
    const running = await startService(declaration, { env, port: false, telemetry: false })
    try {
      const { running: before, stopped } = await readinessAroundConsumerStop(running)
      expect(before[0]).toBe(200)
      expect(before[1].checks.consumer?.status).toBe('ok')
      expect(stopped[0]).toBe(503)
      expect(stopped[1].checks.consumer).toMatchObject({ status: 'failed', detail: 'consumer is closed' })
      expect(stopped[1].checks[options.ownCheck]?.status).toBe('ok')
    } finally {
      await running.close()
    }
  })
}
