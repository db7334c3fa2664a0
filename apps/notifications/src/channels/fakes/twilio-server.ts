/**
 * A local server that speaks Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
 * form-encoded, basic auth), including its failures: 401, 400 with Twilio error codes, 429, 5xx, slow answers.
 */
import { createFaultPlan, type Fault, type FaultOptions, faultResponse, json } from './faults.ts'

export interface FakeSms {
  readonly sid: string
  readonly to: string
  readonly from: string
  readonly body: string
}

export interface FakeTwilio {
  readonly url: string
  readonly accountSid: string
  readonly authToken: string
  readonly messages: FakeSms[]
  readonly faults: { next(fault: Fault): void; readonly injected: { status: number; slow: number } }
  close(): Promise<void>
}

const twilioError = (status: number, code: number, message: string) =>
  json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status })

/** Starts the fake on a random port. */
export const startFakeTwilio = (options: FaultOptions = {}): FakeTwilio => {
  const accountSid = `AC${'0'.repeat(30)}1`
  const authToken = 'twilio-test-token'
  const messages: FakeSms[] = []
  const faults = createFaultPlan(options)
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const url = new URL(request.url)
      if (request.method !== 'POST' || url.pathname !== `/2010-04-01/Accounts/${accountSid}/Messages.json`)
        return twilioError(404, 20404, 'The requested resource was not found')
      if (request.headers.get('authorization') !== expectedAuth)
        return twilioError(401, 20003, 'Authentication Error - invalid username')
      if (!request.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded'))
        return twilioError(400, 21609, 'Invalid content type')
      const form = new URLSearchParams(await request.text())
      const fault = faults.take({ code: 20500, message: 'Internal Server Error', status: 503 })
      if (fault?.kind === 'status') return faultResponse(fault)
      const to = form.get('To') ?? ''
      const from = form.get('From') ?? form.get('MessagingServiceSid') ?? ''
      const body = form.get('Body') ?? ''
      if (!/^\+[1-9]\d{6,14}$/.test(to))
        return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`)
      if (!from) return twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
      if (!body) return twilioError(400, 21602, 'Message body is required')
      const sms = { sid: `SM${crypto.randomUUID().replaceAll('-', '')}`, to, from, body }
      messages.push(sms)
      if (fault?.kind === 'slow') await Bun.sleep(fault.ms)
      return json(201, { sid: sms.sid, status: 'queued', to, from, body, account_sid: accountSid })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    accountSid,
    authToken,
    messages,
    faults,
    async close() {
      await server.stop(true)
    },
  }
}
