/**
 * The notifications service's fake Resend (`POST /emails`, idempotency keys as the real API keeps them) in its own
 * process, answering every request after `FAKE_RESEND_LATENCY_MS` (default 20): a provider across the network.
 */
import { startFakeResend } from '@flotilla/notifications/testing'

const resend = startFakeResend({ latencyMs: Number(process.env.FAKE_RESEND_LATENCY_MS ?? 20) })
console.log(JSON.stringify({ port: Number(new URL(resend.url).port), apiKey: resend.apiKey }))
const stop = async () => {
  await resend.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
