/**
 * A local server that speaks the part of the Resend API this service uses (`POST /emails`), including its
 * failures: 401, 422 validation errors, 429 with `retry-after`, 5xx, slow answers, and idempotency keys
 * like the real API (same key + same body → the first answer again, no second message; same key while
 * the first is in flight → 409 `concurrent_idempotent_requests`; same key + another body → 409
 * `invalid_idempotent_request`).
 */
import { createFaultPlan, type Fault, type FaultOptions, faultResponse, json } from './faults.ts'

export interface FakeEmail {
  readonly id: string
  readonly idempotencyKey: string | null
  readonly from: string
  readonly to: string[]
  readonly subject: string
  readonly html?: string
  readonly text?: string
}

export interface FakeResend {
  readonly url: string
  readonly apiKey: string
  /** Messages created (one per unique send). */
  readonly emails: FakeEmail[]
  /** Every POST /emails received, including retries and refused ones. */
  readonly requests: number
  /** Requests received and not answered yet, waiting out `latencyMs` (a kill now lands mid-send). */
  readonly inFlight: number
  readonly faults: { next(fault: Fault): void; readonly injected: { status: number; slow: number } }
  /** Requests answered from the idempotency store (a retry of a send the provider already did). */
  readonly replays: number
  /** Addresses the fake refuses with 422 `validation_error`. */
  readonly rejected: Set<string>
  close(): Promise<void>
}

interface KeyState {
  readonly bodyHash: string
  done: boolean
  response?: { status: number; body: unknown }
}

const error = (status: number, name: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { statusCode: status, name, message }, headers)

/** Starts the fake on a random port. */
export const startFakeResend = (
  options: FaultOptions & {
    apiKey?: string
    /** Every answer waits this long, as a provider across the network does (benchmarks). @defaultValue 0 */
    latencyMs?: number
    /** @defaultValue 0 (a random port) */
    port?: number
  } = {},
): FakeResend => {
  const apiKey = options.apiKey ?? 're_test_key'
  const emails: FakeEmail[] = []
  const keys = new Map<string, KeyState>()
  const rejected = new Set<string>()
  const faults = createFaultPlan(options)
  let requests = 0
  let inFlight = 0
  let replays = 0
  const unavailable = { statusCode: 503, name: 'application_error', message: 'Service unavailable' }

  const latencyMs = options.latencyMs ?? 0
  const server = Bun.serve({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const url = new URL(request.url)
      if (request.method !== 'POST' || url.pathname !== '/emails') return error(404, 'not_found', 'not found')
      requests++
      if (request.headers.get('authorization') !== `Bearer ${apiKey}`)
        return error(401, 'invalid_api_key', 'API key is invalid')
      const text = await request.text()
      if (latencyMs > 0) {
        inFlight++
        await Bun.sleep(latencyMs).finally(() => inFlight--)
      }
      const fault = faults.take(unavailable)
      // Resend's error bodies always carry statusCode and name (the SDK reads the status from the body).
      if (fault?.kind === 'status')
        return faultResponse({
          ...fault,
          body: fault.body ?? {
            statusCode: fault.status,
            name: fault.status >= 500 ? 'application_error' : 'validation_error',
            message: 'injected failure',
          },
        })
      const key = request.headers.get('idempotency-key')
      const bodyHash = new Bun.CryptoHasher('sha256').update(text).digest('hex')
      if (key !== null) {
        if (key.length === 0 || key.length > 256)
          return error(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars')
        const known = keys.get(key)
        if (known) {
          if (known.bodyHash !== bodyHash)
            return error(
              409,
              'invalid_idempotent_request',
              'Same idempotency key used with a different request payload',
            )
          if (!known.done)
            return error(
              409,
              'concurrent_idempotent_requests',
              'Same idempotency key used while original request is still in progress',
            )
          replays++
          return json(known.response?.status ?? 200, known.response?.body)
        }
      }
      const state: KeyState = { bodyHash, done: false }
      if (key !== null) keys.set(key, state)
      let body: Partial<FakeEmail> & { to?: string | string[] }
      try {
        body = JSON.parse(text)
      } catch {
        keys.delete(key ?? '')
        return error(422, 'validation_error', 'Invalid JSON')
      }
      const to = Array.isArray(body.to) ? body.to : body.to ? [body.to] : []
      const problem = !body.from
        ? 'The `from` field is missing.'
        : to.length === 0
          ? 'The `to` field is missing.'
          : !body.subject
            ? 'The `subject` field is missing.'
            : to.some((address) => rejected.has(address))
              ? 'Invalid `to` field.'
              : undefined
      if (problem) {
        state.done = true
        state.response = {
          status: 422,
          body: { statusCode: 422, name: 'validation_error', message: problem },
        }
        return json(422, state.response.body)
      }
      const email: FakeEmail = {
        id: crypto.randomUUID(),
        idempotencyKey: key,
        from: String(body.from),
        to,
        subject: String(body.subject),
        ...(body.html === undefined ? {} : { html: body.html }),
        ...(body.text === undefined ? {} : { text: body.text }),
      }
      emails.push(email)
      state.response = { status: 200, body: { id: email.id } }
      // A slow answer: the email is accepted now, the answer comes late (the client may have given up).
      if (fault?.kind === 'slow') await Bun.sleep(fault.ms)
      state.done = true
      return json(200, state.response.body)
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    apiKey,
    emails,
    get requests() {
      return requests
    },
    get inFlight() {
      return inFlight
    },
    get replays() {
      return replays
    },
    faults,
    rejected,
    async close() {
      await server.stop(true)
    },
  }
}
