/** Delivery metrics of this service, on the kit's registry: attempts by channel, provider and outcome. */
import type { Metrics } from '@flotilla/service-kit'
import { Counter } from 'prom-client'

/** Registers `notification_attempts_total{channel,provider,outcome}` and returns the callback that counts. */
export const deliveryMetrics = (metrics: Metrics) => {
  const attempts = new Counter({
    name: 'notification_attempts_total',
    help: 'Delivery attempts by channel, provider and outcome (sent, retry, dead, failed)',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers: [metrics.registry],
  })
  return (info: { channel: string; provider: string; outcome: string }) => attempts.inc(info)
}
