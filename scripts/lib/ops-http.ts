/** Ops commands that talk to the apps over HTTP with a service token (the local outbox, a token for Swagger). */
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET } from '@flotilla/service-kit'
import { APPS, appUrl } from './apps.ts'
import { bold, dim, table } from './term.ts'

/** Thrown for problems the operator should read (exit 1, no stack trace). */
export class OpsHttpError extends Error {}

/** The environment the ops entry point passes in: `<APP>_URL` and `SERVICE_TOKEN_SECRET`. */
type Env = Record<string, string | undefined>

/** Signs a service token as `ops` for one app; the secret is SERVICE_TOKEN_SECRET, else the dev default. */
const serviceToken = (env: Env, audience: string, ttlSeconds = 60): Promise<string> => {
  if (!APPS.some((a) => a.name === audience))
    throw new OpsHttpError(`no service "${audience}" (one of ${APPS.map((a) => a.name).join(', ')})`)
  const ring = parseKeyRing(env.SERVICE_TOKEN_SECRET ?? DEV_SERVICE_TOKEN_SECRET)
  return createServiceTokenSigner(ring, 'ops').sign({ audience, ttlSeconds })
}

interface OutboxMessage {
  channel: string
  recipient: string
  subject: string | null
  body: string
  createdAt: string
}

/** `outbox`: what notifications stored instead of sending (no provider configured), newest first. */
export const outbox = async (
  env: Env,
  options: { limit: number; channel?: string | undefined; json: boolean },
): Promise<void> => {
  const app = APPS.find((a) => a.name === 'notifications')!
  const query = new URLSearchParams({
    limit: String(options.limit),
    ...(options.channel ? { channel: options.channel } : {}),
  })
  const url = `${appUrl(app, env)}/v1/outbox?${query}`
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${await serviceToken(env, 'notifications')}` },
    signal: AbortSignal.timeout(5000),
  }).catch((error: Error) => {
    throw new OpsHttpError(
      `notifications is not answering at ${appUrl(app, env)} (${error.message}); is the stack running?`,
    )
  })
  if (!response.ok) throw new OpsHttpError(`GET ${url} answered ${response.status}: ${await response.text()}`)
  const page = (await response.json()) as { items: OutboxMessage[]; nextCursor: string | null }
  if (options.json) {
    console.log(JSON.stringify(page, null, 2))
    return
  }
  if (page.items.length === 0) {
    console.log(`the outbox is empty ${dim('(emails land here while no RESEND_API_KEY is set)')}`)
    return
  }
  console.log(
    table(
      ['time', 'channel', 'to', 'subject / text'],
      page.items.map((m) => [
        m.createdAt.replace('T', ' ').slice(0, 19),
        m.channel,
        m.recipient,
        (m.subject ?? m.body.split('\n')[0] ?? '').slice(0, 70),
      ]),
    ),
  )
  if (page.nextCursor) console.log(dim(`\nolder: ${url}&cursor=${page.nextCursor}`))
}

/** `token <app>`: a service token to paste into that app's Swagger UI ("Authorize"). */
export const printToken = async (env: Env, audience: string, ttlSeconds: number): Promise<void> => {
  const token = await serviceToken(env, audience, ttlSeconds)
  console.log(token)
  if (process.stdout.isTTY)
    console.error(
      dim(`service token for ${bold(audience)}, valid ${ttlSeconds}s; Swagger UI → Authorize → paste it`),
    )
}
