/**
 * A local Web Push service over HTTPS (a self-signed certificate made with openssl at start): accepts
 * `aes128gcm` payloads with a VAPID `Authorization`, answers 201 with a `Location`, and plays the push
 * services' failures: 410 for a gone subscription, 413, 429 with `retry-after`, 5xx, slow answers.
 */

import { createECDH, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFaultPlan, type Fault, type FaultOptions, faultResponse } from './faults.ts'

export interface FakePush {
  readonly id: string
  readonly endpoint: string
  readonly topic: string | null
  readonly ttl: string | null
  readonly bytes: number
}

/**
 * A name the certificate also holds, which no DNS server knows: a test maps it to 127.0.0.1 with its own
 * resolver to play a public-looking name that resolves inside the network.
 */
export const FAKE_PUSH_HOST = 'push.flotilla.test'

export interface FakePushService {
  readonly origin: string
  /** The port it listens on (127.0.0.1). */
  readonly port: number
  /** Its self-signed certificate (PEM): pass it to the transport as `ca`. */
  readonly ca: string
  /** An HTTPS agent that trusts this service's certificate. */
  readonly agent: Agent
  readonly pushes: FakePush[]
  /** Every request that reached it, on any path (an attack test expects 0). */
  readonly requests: { count: number }
  /** Endpoints that answer 410 Gone. */
  readonly gone: Set<string>
  readonly faults: { next(fault: Fault): void; readonly injected: { status: number; slow: number } }
  /** A fresh, valid-looking subscription on this service (at `origin`, or at `https://<host>:<port>`). */
  subscription(host?: string): { endpoint: string; keys: { p256dh: string; auth: string } }
  close(): Promise<void>
}

const selfSigned = () => {
  const dir = mkdtempSync(join(tmpdir(), 'fake-push-'))
  try {
    const result = Bun.spawnSync(
      [
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        `subjectAltName=IP:127.0.0.1,DNS:${FAKE_PUSH_HOST}`,
      ],
      { stderr: 'pipe' },
    )
    if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`)
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts the fake push service on a random port. */
export const startFakePushService = (options: FaultOptions = {}): FakePushService => {
  const tls = selfSigned()
  const pushes: FakePush[] = []
  const gone = new Set<string>()
  const faults = createFaultPlan(options)
  const requests = { count: 0 }
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    tls,
    async fetch(request) {
      requests.count += 1
      const url = new URL(request.url)
      const endpoint = `${url.origin}${url.pathname}`
      if (request.method !== 'POST' || !url.pathname.startsWith('/push/'))
        return new Response('not found', { status: 404 })
      if (!/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/.test(request.headers.get('authorization') ?? ''))
        return new Response('missing or malformed VAPID authorization', { status: 401 })
      if (request.headers.get('content-encoding') !== 'aes128gcm')
        return new Response('unsupported encoding', { status: 415 })
      const body = new Uint8Array(await request.arrayBuffer())
      if (body.byteLength > 4096) return new Response('payload too large', { status: 413 })
      if (gone.has(endpoint))
        return new Response('push subscription has unsubscribed or expired', { status: 410 })
      const fault = faults.take('service unavailable')
      if (fault?.kind === 'status') return faultResponse(fault)
      const id = crypto.randomUUID()
      pushes.push({
        id,
        endpoint,
        topic: request.headers.get('topic'),
        ttl: request.headers.get('ttl'),
        bytes: body.byteLength,
      })
      if (fault?.kind === 'slow') await Bun.sleep(fault.ms)
      return new Response(null, { status: 201, headers: { location: `${url.origin}/messages/${id}` } })
    },
  })
  const origin = `https://127.0.0.1:${server.port}`
  return {
    origin,
    port: server.port as number,
    ca: tls.cert,
    agent: new Agent({ ca: tls.cert }),
    pushes,
    requests,
    gone,
    faults,
    subscription(host) {
      const ecdh = createECDH('prime256v1')
      ecdh.generateKeys()
      return {
        endpoint: `${host ? `https://${host}:${server.port}` : origin}/push/${crypto.randomUUID()}`,
        keys: {
          p256dh: ecdh.getPublicKey().toString('base64url'),
          auth: randomBytes(16).toString('base64url'),
        },
      }
    },
    async close() {
      await server.stop(true)
    },
  }
}
