/**
 * The notification workflows the replica suite runs beside its main workload and SIGKILLs: digests, a throttle,
 * delayed and scheduled sends (some cancelled by their idempotency key before they are due) and quiet hours, every
 * email going through a first provider that is down (a dead port), so the second one (the outbox) sends it.
 *
 * `buildWorkflows` plans it (seeded), `driveWorkflows` publishes it over the first seconds of the run and makes
 * the HTTP calls it needs (settings, cancels), `observeWorkflows` reads what happened through the public surfaces
 * (`GET /v1/notifications`, `GET /v1/outbox`, `notification.sent` on the stream) and the `*Findings` functions
 * list every departure from exactly once (empty: none).
 */
import { createEvent, type EventOf } from '@flotilla/contracts'
import { localTimeOf as localTime } from '@flotilla/notifications/testing'
import { call, type JsonResponse } from '../../e2e/harness/http.ts'
import type { Cluster } from './cluster.ts'

/** Every template's digest window in the run (the env replaces the template's ten minutes). */
const DIGEST_WINDOW_MS = 25_000
/** How long each quiet-hours user's window lasts from when its settings are written. */
const QUIET_MS = 45_000
/** The throttled category: `LIMIT` per user, `EXTRA` more requested. */
const THROTTLE = { category: 'replica-promo', limit: 5, extra: 3 } as const
/** Delayed and scheduled sends are due this many seconds after their event; cancelled ones later, to cancel in time. */
const DELAY_S = { min: 5, max: 55 } as const
const CANCEL_DELAY_S = { min: 45, max: 55 } as const
/** Digest and throttle units go out this many ms (at most) after the flows start: among the main events. */
const SPREAD_MS = 10_000
/**
 * Flows whose times count from their event: published at the head of the stream, before the main workload, so
 * the consumers reach them at once whatever the backlog behind; they then wait (and are cancelled) while the
 * backlog drains and the kills land.
 */
const TIMED: ReadonlySet<Flow> = new Set(['delayed', 'cancelled', 'quiet'])

const SIZES = { digestUsers: 30, throttleUsers: 15, delayed: 60, cancelled: 30, quietUsers: 20 } as const
const QUIET_ZONES = ['Asia/Tokyo', 'America/New_York', 'Europe/Paris', 'Australia/Adelaide', 'Asia/Kolkata']

/**
 * The notifications replicas' settings for the flows: short windows, a throttle, a quick due-time poller, and
 * Resend first on a port nothing listens on (9: privileged, so no test process can take it), the outbox second.
 * A killed replica's entries are taken over within the claim idle time when the survivors cannot tell it is dead
 * by its heartbeat (a loaded machine): 10 s rather than 30, so a sign-in it held still lands in its digest window
 * and a request to cancel is recorded before it is due (the windows and delays above leave that margin).
 */
export const WORKFLOW_ENV: Readonly<Record<string, string>> = {
  NOTIFICATIONS_CLAIM_IDLE_MS: '10000',
  NOTIFICATIONS_DIGEST_WINDOW_MS: String(DIGEST_WINDOW_MS),
  NOTIFICATIONS_THROTTLE: `${THROTTLE.category}=${THROTTLE.limit}/3600`,
  NOTIFICATIONS_DUE_POLL_MS: '250',
  NOTIFICATIONS_EMAIL_PROVIDERS: 'resend,outbox',
  RESEND_API_KEY: 're_replicas_dead_port',
  RESEND_BASE_URL: 'http://127.0.0.1:9',
  // Unlimited: Resend's default 2/s would space out every send, though each fails over at once.
  RESEND_RATE_PER_SECOND: '0',
}

/** The domain of every workflow recipient (the welcome emails go to `@replicas.test`). */
export const WORKFLOW_DOMAIN = 'workflows.test'

type Flow = 'digest' | 'throttle' | 'delayed' | 'cancelled' | 'quiet'

/** One user's share of a flow, published together at `offsetMs`. */
interface Unit {
  readonly flow: Flow
  readonly userId: string
  readonly email: string
  readonly offsetMs: number
  /** Sign-ins (digest), requests (throttle, quiet), or 1 (delayed, cancelled). */
  readonly count: number
  /** Delayed and cancelled: seconds after the event; `sendAt` instead of `delaySeconds` when set. */
  readonly delayS?: number
  readonly asSendAt?: boolean
  readonly zone?: string
}

/** What the drive recorded: what went out, when each was due, and what the cancels answered. */
interface Recorded {
  /** Request (event) id → the unit and the time it may go out, at the earliest (ms). */
  readonly requests: Map<string, { unit: Unit; notBefore: number; deviceName?: string }>
  /** Quiet-hours user → the end of their window (ms). */
  readonly quietEnds: Map<string, number>
  /** Problems met while driving (a cancel refused, a settings call failing). */
  readonly problems: string[]
}

export interface WorkflowPlan {
  readonly run: string
  readonly units: readonly Unit[]
  readonly recorded: Recorded
  /** How many requests the plan publishes and how many emails it must send. */
  readonly requests: number
  readonly emails: number
}

export const buildWorkflows = (o: { run: string; random: () => number }): WorkflowPlan => {
  const units: Unit[] = []
  const between = (min: number, max: number) => min + Math.floor(o.random() * (max - min + 1))
  const add = (flow: Flow, n: number, unit: (i: number) => Partial<Unit> & { count: number }) => {
    for (let i = 0; i < n; i++) {
      const userId = `wf_${o.run}_${flow}_${i}`
      units.push({
        flow,
        userId,
        email: `${flow}${i}.${o.run}@${WORKFLOW_DOMAIN}`,
        offsetMs: TIMED.has(flow) ? 0 : Math.floor(o.random() * SPREAD_MS),
        ...unit(i),
      })
    }
  }
  add('digest', SIZES.digestUsers, () => ({ count: between(3, 5) }))
  add('throttle', SIZES.throttleUsers, () => ({ count: THROTTLE.limit + THROTTLE.extra }))
  add('delayed', SIZES.delayed, (i) => ({
    count: 1,
    delayS: between(DELAY_S.min, DELAY_S.max),
    asSendAt: i % 2 === 1,
  }))
  add('cancelled', SIZES.cancelled, () => ({
    count: 1,
    delayS: between(CANCEL_DELAY_S.min, CANCEL_DELAY_S.max),
  }))
  add('quiet', SIZES.quietUsers, (i) => ({ count: 2, zone: QUIET_ZONES[i % QUIET_ZONES.length] as string }))
  units.sort((a, b) => a.offsetMs - b.offsetMs)
  const emailsOf = (u: Unit) =>
    u.flow === 'digest' ? 1 : u.flow === 'throttle' ? THROTTLE.limit : u.flow === 'cancelled' ? 0 : u.count
  return {
    run: o.run,
    units,
    recorded: { requests: new Map(), quietEnds: new Map(), problems: [] },
    requests: units.reduce((n, u) => n + u.count, 0),
    emails: units.reduce((n, u) => n + emailsOf(u), 0),
  }
}

/**
 * A call to notifications with a service token, to any live replica: a replica killed under the call (a network
 * error, a 5xx) is retried on the next, for up to 30 s.
 */
const callNotifications = async <T>(
  cluster: Cluster,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonResponse<T>> => {
  const deadline = Date.now() + 30_000
  for (;;) {
    let failure: string
    try {
      const res = await call<T>(method, `${cluster.url('notifications')}${path}`, {
        token: await cluster.serviceToken('notifications'),
        ...(body === undefined ? {} : { body }),
      })
      if (res.status < 500) return res
      failure = `${res.status} ${JSON.stringify(res.body)}`
    } catch (error) {
      failure = (error as Error).message
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path}: ${failure}`)
    await Bun.sleep(200)
  }
}

const resetData = (userId: string) => ({
  resetUrl: `https://app.example/reset/${userId}`,
  expiresInMinutes: 30,
})

export interface Drive {
  /** The timed flows are on the stream (the main workload may follow). */
  readonly head: Promise<void>
  /** Every unit is published and every cancel answered. */
  readonly done: Promise<void>
}

/**
 * Publishes the plan: the timed flows at once (quiet-hours settings written first), then cancels the cancelled
 * ones as soon as each is recorded; the digest and throttle units each at its offset from now, among the main
 * events.
 */
export const driveWorkflows = (
  plan: WorkflowPlan,
  cluster: Cluster,
  publish: (event: EventOf<'notification.requested'>) => Promise<unknown>,
): Drive => {
  const { requests, quietEnds, problems } = plan.recorded
  const t0 = Date.now()
  const send = async (
    unit: Unit,
    payload: Omit<EventOf<'notification.requested'>['payload'], 'recipient'>,
    notBefore?: (occurredAt: number) => number,
    deviceName?: string,
  ) => {
    const event = createEvent(
      'notification.requested',
      { recipient: { userId: unit.userId, email: unit.email }, ...payload },
      { source: 'monolith' },
    )
    const occurredAt = Date.parse(event.occurredAt)
    requests.set(event.id, {
      unit,
      notBefore: notBefore?.(occurredAt) ?? 0,
      ...(deviceName ? { deviceName } : {}),
    })
    await publish(event)
    return event
  }
  const times = (unit: Unit) => Array.from({ length: unit.count }, (_, i) => i)
  const reset = (unit: Unit) => ({ template: 'password-reset', data: resetData(unit.userId) })

  /** Cancels by the key until a replica has recorded the request (404 before); false past its due time. */
  const cancel = async (idempotencyKey: string, due: number) => {
    for (;;) {
      const res = await callNotifications<{
        error?: { code: string; details?: { deliveries: { status: string }[] } }
      }>(cluster, 'POST', '/v1/notifications/cancel', { idempotencyKey })
      if (res.status === 200) return
      // A 409 after an answer lost with a killed replica is fine when every delivery is cancelled.
      const statuses = res.body.error?.details?.deliveries.map((d) => d.status) ?? []
      if (res.status === 409 && statuses.length > 0 && statuses.every((s) => s === 'cancelled')) return
      if (res.status !== 404) {
        problems.push(`cancel ${idempotencyKey}: ${res.status} ${JSON.stringify(res.body)}`)
        return
      }
      if (Date.now() > due) {
        problems.push(`cancel ${idempotencyKey}: still unknown at its due time`)
        return
      }
      await Bun.sleep(100)
    }
  }

  /** Publishes a unit; resolves to what follows its publication (a cancel), if anything. */
  const runUnit = async (unit: Unit): Promise<(() => Promise<void>) | undefined> => {
    const delayS = unit.delayS ?? DELAY_S.min
    switch (unit.flow) {
      case 'digest':
        await Promise.all(
          times(unit).map((i) => {
            const deviceName = `device-${i}-${unit.userId}`
            const data = { at: new Date().toISOString(), deviceName }
            return send(unit, { template: 'new-sign-in', data }, undefined, deviceName)
          }),
        )
        return undefined
      case 'throttle':
        await Promise.all(times(unit).map(() => send(unit, { ...reset(unit), category: THROTTLE.category })))
        return undefined
      case 'delayed': {
        if (unit.asSendAt) {
          const at = new Date(Date.now() + delayS * 1000).toISOString()
          await send(unit, { ...reset(unit), sendAt: at }, () => Date.parse(at))
        } else
          await send(unit, { ...reset(unit), delaySeconds: delayS }, (occurred) => occurred + delayS * 1000)
        return undefined
      }
      case 'cancelled': {
        const idempotencyKey = `cancel:${unit.userId}`
        const event = await send(unit, { ...reset(unit), delaySeconds: delayS, idempotencyKey })
        return () => cancel(idempotencyKey, Date.parse(event.occurredAt) + delayS * 1000)
      }
      case 'quiet': {
        const zone = unit.zone ?? 'UTC'
        const now = Date.now()
        const end = now + QUIET_MS
        const quietHours = { start: localTime(now - 2000, zone), end: localTime(end, zone) }
        const res = await callNotifications(cluster, 'PUT', `/v1/users/${unit.userId}/settings`, {
          timezone: zone,
          quietHours,
        })
        if (res.status !== 200) {
          problems.push(`settings of ${unit.userId}: ${res.status} ${JSON.stringify(res.body)}`)
          return undefined
        }
        // Held until the window's end, to the second (what `heldUntil` computes).
        const endsAt = end - (end % 1000)
        quietEnds.set(unit.userId, endsAt)
        await Promise.all(times(unit).map(() => send(unit, reset(unit), () => endsAt)))
        return undefined
      }
    }
  }

  const guarded = async <T>(unit: Unit, step: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await step()
    } catch (error) {
      problems.push(`${unit.flow} ${unit.userId}: ${(error as Error).message}`)
      return undefined
    }
  }
  const timed = plan.units.filter((u) => TIMED.has(u.flow))
  const published = Promise.all(timed.map((unit) => guarded(unit, () => runUnit(unit))))
  const cancels = published.then((steps) =>
    Promise.all(steps.map((step, i) => (step ? guarded(timed[i] as Unit, step) : undefined))),
  )
  const spread = Promise.all(
    plan.units
      .filter((u) => !TIMED.has(u.flow))
      .map(async (unit) => {
        // Pacing, not a timing assumption: the units go out among the main events, while the kills land.
        await Bun.sleep(Math.max(0, t0 + unit.offsetMs - Date.now()))
        await guarded(unit, () => runUnit(unit))
      }),
  )
  return { head: published.then(() => {}), done: Promise.all([cancels, spread]).then(() => {}) }
}

/** A delivery as `GET /v1/notifications` lists it (the fields read here). */
export interface DeliveryView {
  readonly id: string
  readonly requestId: string
  readonly userId: string
  readonly template: string
  readonly status: string
  readonly provider: string | null
  readonly failedOver: boolean
  readonly dueAt: string | null
  readonly digestId: string | null
  readonly sentAt: string | null
  readonly createdAt: string
  readonly error: { readonly code: string } | null
}

export interface OutboxMessage {
  readonly recipient: string
  readonly subject: string | null
  readonly body: string
  readonly createdAt: string
}

/** A `notification.sent` event on the stream (distinct by event id). */
export interface SentEvent {
  readonly id: string
  readonly notificationId: string
  readonly userId: string
  readonly provider: string
}

export interface WorkflowObservation {
  /** The workflow users' deliveries. */
  readonly deliveries: readonly DeliveryView[]
  /** What the outbox stored for workflow recipients. */
  readonly outbox: readonly OutboxMessage[]
  /** The workflow users' `notification.sent` events. */
  readonly sent: readonly SentEvent[]
}

/** The workflow share of what was read. */
export const workflowShare = (
  plan: WorkflowPlan,
  all: { deliveries: readonly DeliveryView[]; outbox: readonly OutboxMessage[]; sent: readonly SentEvent[] },
): WorkflowObservation => {
  const ours = (userId: string) => userId.startsWith(`wf_${plan.run}_`)
  return {
    deliveries: all.deliveries.filter((d) => ours(d.userId)),
    outbox: all.outbox.filter((m) => m.recipient.endsWith(`.${plan.run}@${WORKFLOW_DOMAIN}`)),
    sent: all.sent.filter((e) => ours(e.userId)),
  }
}

const WAITING = new Set(['queued', 'sending', 'scheduled', 'held'])

/**
 * Whether the flows are over: every request published has its deliveries, none is still waiting or sending,
 * every digest window has closed, and the stream carries as many `notification.sent` as there are sent rows.
 * Over is not right: the findings below say whether it was.
 */
export const workflowsSettled = (plan: WorkflowPlan, seen: WorkflowObservation): boolean => {
  const handled = new Set(seen.deliveries.map((d) => d.requestId))
  return (
    [...plan.recorded.requests.keys()].every((id) => handled.has(id)) &&
    seen.deliveries.every((d) => !WAITING.has(d.status) && !(d.status === 'digested' && !d.digestId)) &&
    new Set(seen.sent.map((e) => e.notificationId)).size ===
      seen.deliveries.filter((d) => d.status === 'sent').length
  )
}

const byUser = <T extends { userId: string }>(list: readonly T[]) => {
  const out = new Map<string, T[]>()
  for (const item of list) out.set(item.userId, [...(out.get(item.userId) ?? []), item])
  return out
}

const userOfRecipient = (plan: WorkflowPlan) => {
  const users = new Map(plan.units.map((u) => [u.email, u.userId]))
  return (message: OutboxMessage) => users.get(message.recipient) ?? '?'
}

const unitsOf = (plan: WorkflowPlan, flow: Flow) => plan.units.filter((u) => u.flow === flow)

/** Each digest user: one message listing every one of their sign-ins, once; every sign-in collected into it. */
export const digestFindings = (plan: WorkflowPlan, seen: WorkflowObservation): string[] => {
  const problems: string[] = []
  const rows = byUser(seen.deliveries)
  const mails = byUser(seen.outbox.map((m) => ({ ...m, userId: userOfRecipient(plan)(m) })))
  for (const unit of unitsOf(plan, 'digest')) {
    const devices = [...plan.recorded.requests.values()]
      .filter((r) => r.unit === unit)
      .map((r) => r.deviceName ?? '')
    const mine = rows.get(unit.userId) ?? []
    const members = mine.filter((d) => d.template === 'new-sign-in')
    const digests = mine.filter((d) => d.template === 'new-sign-in-digest')
    const got = mails.get(unit.userId) ?? []
    const where = `digest ${unit.userId}`
    if (members.length !== unit.count || !members.every((d) => d.status === 'digested'))
      problems.push(
        `${where}: members ${JSON.stringify(members.map((d) => d.status))}, want ${unit.count} digested`,
      )
    if (digests.length !== 1 || digests[0]?.status !== 'sent')
      problems.push(
        `${where}: digest deliveries ${JSON.stringify(digests.map((d) => d.status))}, want one sent`,
      )
    else if (!members.every((d) => d.digestId === digests[0]?.id))
      problems.push(`${where}: a member points at another digest`)
    if (got.length !== 1) {
      problems.push(`${where}: ${got.length} messages in the outbox, want 1`)
      continue
    }
    const [mail] = got
    if (mail?.subject !== `${unit.count} new sign-ins to your Flotilla account`)
      problems.push(`${where}: subject "${mail?.subject}"`)
    const missing = devices.filter((device) => !mail?.body.includes(device))
    const twice = devices.filter((device) => (mail?.body.split(device).length ?? 0) > 2)
    if (devices.length !== unit.count || missing.length > 0 || twice.length > 0)
      problems.push(`${where}: lists ${devices.length} devices, missing ${missing}, twice ${twice}`)
  }
  return problems
}

/** Each throttled user: exactly `limit` sent (and in the outbox), the rest `throttled`, none lost. */
export const throttleFindings = (plan: WorkflowPlan, seen: WorkflowObservation): string[] => {
  const problems: string[] = []
  const rows = byUser(seen.deliveries)
  const recipientOf = userOfRecipient(plan)
  for (const unit of unitsOf(plan, 'throttle')) {
    const statuses = (rows.get(unit.userId) ?? []).map((d) => d.status)
    const count = (s: string) => statuses.filter((x) => x === s).length
    const mails = seen.outbox.filter((m) => recipientOf(m) === unit.userId).length
    if (
      statuses.length !== unit.count ||
      count('sent') !== THROTTLE.limit ||
      count('throttled') !== THROTTLE.extra ||
      mails !== THROTTLE.limit
    )
      problems.push(`throttle ${unit.userId}: ${JSON.stringify(statuses)}, ${mails} in the outbox`)
    const codes = (rows.get(unit.userId) ?? [])
      .filter((d) => d.status === 'throttled')
      .map((d) => d.error?.code)
    if (!codes.every((code) => code === 'THROTTLED')) problems.push(`throttle ${unit.userId}: codes ${codes}`)
  }
  return problems
}

/**
 * Delayed, scheduled and quiet-hours requests: each sent exactly once (one outbox message), none before its time
 * (its due time; the end of the quiet window, which it was held for); cancelled ones never sent.
 */
export const timedFindings = (plan: WorkflowPlan, seen: WorkflowObservation): string[] => {
  const problems: string[] = [...plan.recorded.problems]
  const rowsOfRequest = new Map<string, DeliveryView[]>()
  for (const d of seen.deliveries)
    rowsOfRequest.set(d.requestId, [...(rowsOfRequest.get(d.requestId) ?? []), d])
  const recipientOf = userOfRecipient(plan)
  const mails = byUser(seen.outbox.map((m) => ({ ...m, userId: recipientOf(m) })))
  const waited = new Map<Flow, number>()
  for (const [requestId, { unit, notBefore }] of plan.recorded.requests) {
    if (!TIMED.has(unit.flow)) continue
    const where = `${unit.flow} ${unit.userId} (${requestId})`
    const rows = rowsOfRequest.get(requestId) ?? []
    const [row] = rows
    if (rows.length !== 1 || !row) {
      problems.push(`${where}: ${rows.length} deliveries`)
      continue
    }
    if (unit.flow === 'cancelled') {
      if (row.status !== 'cancelled') problems.push(`${where}: ${row.status}, want cancelled`)
      continue
    }
    if (row.status !== 'sent') problems.push(`${where}: ${row.status}, want sent`)
    // Held (quiet hours) or scheduled: waited, recorded with its time as the due time. Handled after that time
    // (a replica killed with it in hand), it rightly went out at once.
    if (row.dueAt !== null) waited.set(unit.flow, (waited.get(unit.flow) ?? 0) + 1)
    const late = Date.parse(row.createdAt) >= notBefore
    if (Date.parse(row.dueAt ?? '') !== notBefore && !(late && row.dueAt === null))
      problems.push(`${where}: due ${row.dueAt}, want ${new Date(notBefore).toISOString()}`)
    if (!(Date.parse(row.sentAt ?? '') >= notBefore))
      problems.push(`${where}: sent at ${row.sentAt}, before its time`)
  }
  for (const unit of plan.units.filter((u) => TIMED.has(u.flow))) {
    const got = mails.get(unit.userId) ?? []
    const want = unit.flow === 'cancelled' ? 0 : unit.count
    if (got.length !== want)
      problems.push(`${unit.flow} ${unit.userId}: ${got.length} messages, want ${want}`)
    const earliest = Math.min(
      ...[...plan.recorded.requests.values()].filter((r) => r.unit === unit).map((r) => r.notBefore),
    )
    const early = got.filter((m) => Date.parse(m.createdAt) < earliest)
    if (early.length > 0)
      problems.push(`${unit.flow} ${unit.userId}: in the outbox at ${early[0]?.createdAt}`)
  }
  // A flow whose requests all came too late to wait tested nothing.
  for (const flow of ['delayed', 'quiet'] as const)
    if (!waited.get(flow)) problems.push(`${flow}: no request waited for its time`)
  return problems
}

/**
 * Failover and the stream: every sent delivery went out through the second provider (`outbox`, failed over),
 * and carries exactly one `notification.sent`, naming that provider.
 */
export const sentFindings = (seen: WorkflowObservation): string[] => {
  const problems: string[] = []
  const sentRows = seen.deliveries.filter((d) => d.status === 'sent')
  const notFailedOver = sentRows.filter((d) => d.provider !== 'outbox' || !d.failedOver)
  if (notFailedOver.length > 0)
    problems.push(
      `${notFailedOver.length} sent without failing over, e.g. ${JSON.stringify(notFailedOver[0])}`,
    )
  const events = new Map<string, SentEvent[]>()
  for (const e of seen.sent) events.set(e.notificationId, [...(events.get(e.notificationId) ?? []), e])
  for (const row of sentRows) {
    const mine = events.get(row.id) ?? []
    if (mine.length !== 1 || mine[0]?.provider !== 'outbox')
      problems.push(`delivery ${row.id}: notification.sent ${JSON.stringify(mine)}`)
    events.delete(row.id)
  }
  if (events.size > 0) problems.push(`notification.sent for deliveries not sent: ${[...events.keys()]}`)
  return problems
}

/** How many timed requests really waited for their time (a `dueAt`) and how many were recorded too late to. */
export const waitedSummary = (plan: WorkflowPlan, seen: WorkflowObservation): string => {
  const byRequest = new Map(seen.deliveries.map((d) => [d.requestId, d]))
  const counts = new Map<Flow, { waited: number; late: number }>()
  for (const [requestId, { unit }] of plan.recorded.requests) {
    if (unit.flow !== 'delayed' && unit.flow !== 'quiet') continue
    const count = counts.get(unit.flow) ?? { waited: 0, late: 0 }
    if (byRequest.get(requestId)?.dueAt) count.waited++
    else count.late++
    counts.set(unit.flow, count)
  }
  return [...counts]
    .map(([flow, c]) => `${flow} ${c.waited} waited, ${c.late} recorded after their time`)
    .join('; ')
}

/** One attempt of a delivery's log (`GET /v1/notifications/:id`). */
interface AttemptView {
  readonly provider: string | null
  readonly outcome: string
}

/**
 * The attempt logs of the sent workflow deliveries: each has exactly one `sent` attempt, through the outbox,
 * after Resend's `failover` (the dead port, or its open circuit) with nothing between but `abandoned` outbox
 * attempts: a replica killed after the failover's commit and before the outbox's leaves its attempt `started`, and
 * once its lease ends another replica marks it abandoned and sends the delivery.
 */
export const attemptFindings = async (cluster: Cluster, seen: WorkflowObservation): Promise<string[]> => {
  const problems: string[] = []
  for (const row of seen.deliveries.filter((d) => d.status === 'sent')) {
    const res = await callNotifications<{ attemptLog: AttemptView[] }>(
      cluster,
      'GET',
      `/v1/notifications/${row.id}`,
    )
    const log = res.body.attemptLog.map((a) => `${a.provider}:${a.outcome}`)
    const sent = log.flatMap((entry, i) => (entry.endsWith(':sent') ? [i] : []))
    let before = (sent[0] ?? 0) - 1
    while (before >= 0 && log[before] === 'outbox:abandoned') before--
    if (sent.length !== 1 || log[sent[0] as number] !== 'outbox:sent' || log[before] !== 'resend:failover')
      problems.push(`delivery ${row.id}: attempts ${log.join(', ')}`)
  }
  return problems
}
