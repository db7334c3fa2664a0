/** What every test that starts a service through the runner needs: its own stream, key prefix and DATA_DIR. */
import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRedisConnection } from '@flotilla/streams'
import {
  cleanupStream,
  deleteKeysMatching,
  TEST_REDIS_URL,
  uniqueStreamName,
} from '@flotilla/streams/testing'

/**
 * Registers, in the enclosing scope, the removal of the stream, the keys and the directory after its tests;
 * returns the environment a service started in those tests reads (`prefixVariable` set to the key prefix).
 */
export const serviceTestScope = (
  name: string,
  prefixVariable: string,
  redisUrl: string = TEST_REDIS_URL,
): Record<string, string> => {
  const redis = createRedisConnection(redisUrl, 'command')
  const prefix = `test:${name}:${crypto.randomUUID().slice(0, 8)}:`
  const stream = uniqueStreamName(name)
  const dir = mkdtempSync(join(tmpdir(), `${name}-`))
  afterAll(async () => {
    await deleteKeysMatching(redis, `${prefix}*`)
    await cleanupStream(redis, stream)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    REDIS_URL: redisUrl,
    EVENTS_STREAM: stream,
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    [prefixVariable]: prefix,
  }
}
