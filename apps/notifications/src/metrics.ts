/** Delivery metrics of this service, on the kit's registry: attempts by channel, provider and outcome; workflow statuses. */
import { Counter, type Metrics } from '@flotilla/service-kit'

/** Registers `notification_attempts_total{channel,provider,outcome}` and returns the callback that counts. */
export const deliveryMetrics = (metrics: Metrics) => {
  const attempts = new Counter({
    name: 'notification_attempts_total',
    help: 'Delivery attempts by channel, provider and outcome (sent, retry, failover, dead, failed)',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers: [metrics.registry],
  })
  return (info: { channel: string; provider: string; outcome: string }) => attempts.inc(info)
}

/**
 * Registers `notification_workflow_total{channel,status}` (deliveries recorded throttled, scheduled, held,
 * digested or cancelled) and returns the callback that counts.
 */
export const workflowMetrics = (metrics: Metrics) => {
  const statuses = new Counter({
    name: 'notification_workflow_total',
    help: 'Deliveries that entered a workflow status: throttled, scheduled, held, digested, cancelled',
    labelNames: ['channel', 'status'] as const,
    registers: [metrics.registry],
  })
  return (info: { channel: string; status: string }) => statuses.inc(info)
}
