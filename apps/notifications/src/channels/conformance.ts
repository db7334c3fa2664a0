/**
 * The one conformance suite every transport runs (outbox, Resend, Twilio, Web Push): the same behaviour
 * behind the same interface, checked against a provider that speaks the real protocol. Fault checks run
 * for transports that talk to a provider (`faults` given).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { RenderedMessage } from '../templates/model.ts'
import type { Fault } from './fakes/faults.ts'
import { type Address, type Transport, TransportError } from './types.ts'

export interface ConformanceHarness {
  readonly transport: Transport
  /** A fresh address the provider accepts. */
  address(): Address
  /** An address the provider refuses for good (unknown number, gone subscription, invalid recipient). */
  invalidAddress?(): Address
  /** Messages the provider holds for an address (unique sends). */
  delivered(address: Address): Promise<number> | number
  /** Scripts the provider's next answer. */
  readonly faults?: { next(fault: Fault): void }
  /** A fault slower than the transport's timeout. */
  readonly slowMs?: number
  cleanup(): Promise<void>
}

const messageFor = (channel: Transport['channel']): RenderedMessage => {
  if (channel === 'email')
    return { channel, subject: 'Conformance', html: '<p>Hello &amp; welcome</p>', text: 'Hello & welcome' }
  if (channel === 'sms') return { channel, text: 'Conformance: hello' }
  return { channel, title: 'Conformance', body: 'Hello' }
}

const failureOf = async (promise: Promise<unknown>): Promise<TransportError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof TransportError)) throw new Error(`expected a TransportError, got ${String(error)}`)
  return error
}

/** Registers the suite for one transport; `providerFaults` adds the 429 / 5xx / timeout / refusal checks. */
export const describeTransportConformance = (
  name: string,
  create: () => Promise<ConformanceHarness>,
  options: { providerFaults: boolean },
) => {
  describe(`transport conformance: ${name}`, () => {
    let h: ConformanceHarness
    beforeAll(async () => {
      h = await create()
    })
    afterAll(async () => {
      await h.cleanup()
    })
    const send = (address: Address, key = crypto.randomUUID()) =>
      h.transport.send({ address, message: messageFor(h.transport.channel), idempotencyKey: key })

    it('sends one message and answers with a provider message id', async () => {
      const address = h.address()
      const result = await send(address)
      expect(result.providerMessageId.length).toBeGreaterThan(0)
      expect(await h.delivered(address)).toBe(1)
    })

    it('keeps its idempotency promise: a repeated key yields one message exactly when it says it is idempotent', async () => {
      const address = h.address()
      const key = crypto.randomUUID()
      const first = await send(address, key)
      const second = await send(address, key)
      if (h.transport.idempotent) {
        expect(second.providerMessageId).toBe(first.providerMessageId)
        expect(await h.delivered(address)).toBe(1)
      } else {
        expect(await h.delivered(address)).toBe(2)
      }
    })

    it('refuses a message for another channel as a permanent failure, sending nothing', async () => {
      const address = h.address()
      const other: RenderedMessage = h.transport.channel === 'sms' ? messageFor('email') : messageFor('sms')
      const failure = await failureOf(
        h.transport.send({ address, message: other, idempotencyKey: crypto.randomUUID() }),
      )
      expect(failure.kind).toBe('permanent')
      expect(await h.delivered(address)).toBe(0)
    })

    if (!options.providerFaults) return
    const faults = () => {
      if (!h.faults) throw new Error('this harness has no provider to inject faults into')
      return h.faults
    }

    it('reports 429 as transient with the retry-after delay', async () => {
      faults().next({
        kind: 'status',
        status: 429,
        retryAfter: '7',
        body: { message: 'rate limited', name: 'rate_limit_exceeded', statusCode: 429, code: 20429 },
      })
      const failure = await failureOf(send(h.address()))
      expect(failure.kind).toBe('transient')
      expect(failure.status).toBe(429)
      expect(failure.retryAfterMs).toBe(7000)
    })

    it('reports a 5xx as transient', async () => {
      faults().next({ kind: 'status', status: 503 })
      const failure = await failureOf(send(h.address()))
      expect(failure.kind).toBe('transient')
      expect(failure.status).toBe(503)
    })

    it('reports an answer slower than its timeout as a transient timeout', async () => {
      faults().next({ kind: 'slow', ms: h.slowMs ?? 1500 })
      const failure = await failureOf(send(h.address()))
      expect(failure.kind).toBe('transient')
      expect(failure.code).toBe('PROVIDER_TIMEOUT')
    })

    it('reports a recipient the provider refuses for good as a permanent failure', async () => {
      if (!h.invalidAddress) throw new Error('the harness must give an invalid address')
      const failure = await failureOf(send(h.invalidAddress()))
      expect(failure.kind).toBe('permanent')
    })
  })
}
