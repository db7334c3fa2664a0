/**
 * Push through Web Push (VAPID) with the `web-push` library. A push service forgets nothing it accepted,
 * so this transport is not idempotent; the `Topic` header (derived from the delivery) at least collapses
 * an undelivered duplicate on the push service.
 */
import { isPublicHttpsUrl } from '@flotilla/contracts'
import { ADDRESS_REFUSED, createPublicAgent, type Resolve } from './public-agent.ts'
import { kindOfStatus, retryAfterMs, type Transport, TransportError } from './types.ts'

export interface WebPushTransportOptions {
  readonly vapidSubject: string
  readonly vapidPublicKey: string
  readonly vapidPrivateKey: string
  /** Seconds the push service keeps an undelivered message. @defaultValue 86400 */
  readonly ttlSeconds?: number
  /** @defaultValue 10000 */
  readonly timeoutMs?: number
  /** Certificates to trust instead of the system's (PEM): tests' local push service. */
  readonly ca?: string
  /**
   * Push to loopback, private, link-local and `.internal` endpoints too. Only tests with a local push service
   * set it: otherwise an event could make this service call inside the network (SSRF). @defaultValue false
   */
  readonly allowPrivateEndpoints?: boolean
  /** How endpoint host names resolve (tests map a name to an address). @defaultValue `dns.lookup` */
  readonly resolve?: Resolve
}

interface WebPushFailure {
  readonly statusCode?: number
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly message?: string
}

// The library loads at the first push: a service that never pushes does not hold it in memory.
let library: Promise<typeof import('web-push')> | undefined
const webPush = () => (library ??= import('web-push').then((m) => m.default ?? m))

/** Creates the Web Push transport. */
export const createWebPushTransport = (options: WebPushTransportOptions): Transport => {
  const vapidDetails = {
    subject: options.vapidSubject,
    publicKey: options.vapidPublicKey,
    privateKey: options.vapidPrivateKey,
  }
  const timeoutMs = options.timeoutMs ?? 10_000
  // Endpoints come from event data: the agent checks each address a host resolves to when it connects and
  // dials exactly that address (the URL check below only sees the spelling).
  const agent = createPublicAgent({
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
    allowPrivateAddresses: options.allowPrivateEndpoints === true,
  })
  const refused = (message: string, cause?: unknown) =>
    new TransportError('permanent', 'PUSH_ENDPOINT_REFUSED', message, cause === undefined ? {} : { cause })
  return {
    channel: 'push',
    provider: 'web-push',
    idempotent: false,
    async send({ address, message, idempotencyKey }) {
      if (address.channel !== 'push' || message.channel !== 'push')
        throw new TransportError('permanent', 'CHANNEL_MISMATCH', 'the Web Push transport sends push only')
      if (!options.allowPrivateEndpoints && !isPublicHttpsUrl(address.subscription.endpoint))
        throw refused(
          'push endpoints must be public https URLs (no loopback, private, link-local or .internal host)',
        )
      const payload = JSON.stringify({ title: message.title, body: message.body })
      // Topic: at most 32 characters of the URL-safe base64 alphabet.
      const topic = new Bun.CryptoHasher('sha256').update(idempotencyKey).digest('base64url').slice(0, 32)
      try {
        const result = await (await webPush()).sendNotification(address.subscription, payload, {
          vapidDetails,
          TTL: options.ttlSeconds ?? 86_400,
          topic,
          timeout: timeoutMs,
          agent,
        })
        const location = result.headers.location
        return { providerMessageId: typeof location === 'string' && location !== '' ? location : topic }
      } catch (error) {
        const failure = error as WebPushFailure
        if (typeof failure.statusCode !== 'number') {
          if ((error as { code?: unknown }).code === ADDRESS_REFUSED)
            throw refused(`push endpoint refused: ${failure.message ?? ''}`, error)
          const timedOut = /timeout/i.test(failure.message ?? '')
          // Socket errors carry a code (ECONNREFUSED…); web-push's own checks (bad keys) do not and never pass.
          const network = timedOut || typeof (error as { code?: unknown }).code === 'string'
          throw new TransportError(
            network ? 'transient' : 'permanent',
            timedOut ? 'PROVIDER_TIMEOUT' : network ? 'PROVIDER_UNREACHABLE' : 'PUSH_INVALID_REQUEST',
            failure.message ?? 'push service unreachable',
            { cause: error },
          )
        }
        const status = failure.statusCode
        // 404 / 410: the subscription is gone for good.
        const code = status === 404 || status === 410 ? 'PUSH_SUBSCRIPTION_GONE' : `PUSH_${status}`
        const wait = retryAfterMs(failure.headers?.['retry-after'])
        throw new TransportError(
          kindOfStatus(status),
          code,
          `push service answered ${status}: ${failure.body ?? ''}`,
          {
            status,
            ...(wait === undefined ? {} : { retryAfterMs: wait }),
          },
        )
      }
    },
  }
}
