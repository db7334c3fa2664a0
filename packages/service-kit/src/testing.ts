/** Test helpers for apps built on the kit (`@flotilla/service-kit/testing`). */
import type { ReadyResponse } from './app/probes.ts'

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
