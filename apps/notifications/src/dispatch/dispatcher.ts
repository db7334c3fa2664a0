/**
 * From a notification request to its deliveries: resolve the recipient (request, then the contact
 * directory), check preferences, validate and render the template once, record one delivery per
 * (event id, channel, recipient), and send each through the delivery service. Throws what the stream
 * runtime understands: `RetryLaterError` / an error to retry, `NonRetryableError` to dead-letter.
 */
import { NonRetryableError } from '@flotilla/streams'
import type { ContactStore } from '../contacts/store.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { DeliveryBatchStore } from '../deliveries/batch-store.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from '../deliveries/model.ts'
import type { DeliveryService } from '../deliveries/service.ts'
import type { DeliveryOutcome } from '../deliveries/service-types.ts'
import type { DeliveryStore, Failure, NewDelivery } from '../deliveries/store.ts'
import type { PreferenceStore } from '../preferences/store.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import type { TemplateRegistry } from '../templates/registry.ts'
import type { Digests } from '../workflows/digest.ts'
import type { Throttle } from '../workflows/throttle.ts'
import { type BatchItem, type BatchResult, dispatchBatch, type PendingContacts } from './batch.ts'
import type { NotificationRequest } from './model.ts'
import { type DispatchContext, planRequest, renderPlan, settleOutcomes, waitOf } from './plan.ts'

export type { DispatchContext } from './plan.ts'

export interface DispatcherDeps {
  readonly registry: TemplateRegistry
  readonly contacts: ContactStore
  readonly preferences: PreferenceStore
  readonly deliveries: DeliveryStore
  /** The same log's batch statements (`dispatchBatch`). */
  readonly batchStore: DeliveryBatchStore
  readonly service: DeliveryService
  readonly throttle: Throttle
  readonly digests: Digests
  /** Told each new delivery recorded in a workflow status (throttled, scheduled, held, digested): metrics. */
  readonly onStatus?: (info: { channel: string; status: string }) => void
}

export const createDispatcher = (deps: DispatcherDeps) => {
  const { registry, contacts, preferences, deliveries, service, throttle, digests } = deps
  /** Records a delivery; a new one in a workflow status is counted (metrics). */
  const ensureCounted = async (d: NewDelivery) => {
    const { row, created } = await deliveries.insert(d)
    if (created && row.status !== 'queued') deps.onStatus?.({ channel: row.channel, status: row.status })
    return row
  }

  const api = {
    /** Dispatches one request; resolves to the rows it touched (the error, if any, is thrown after all ran). */
    async dispatch(request: NotificationRequest, context: DispatchContext): Promise<DeliveryRow[]> {
      const { recipient } = request
      const contact =
        context.contact?.userId === recipient.userId ? context.contact : await contacts.get(recipient.userId)
      const plan = planRequest(registry, request, contact)
      const { template, requestedDue, critical, quiet, category, targets, base } = plan
      // Render once for every addressable channel; bad data dead-letters the event (and is recorded per delivery).
      let rendered: Map<ChannelName, RenderedMessage>
      try {
        rendered = renderPlan(registry, plan, request)
      } catch (error) {
        if (!(error instanceof NonRetryableError)) throw error
        const failure: Failure = { code: error.code, message: error.message, kind: 'permanent' }
        const rows: DeliveryRow[] = []
        for (const target of targets) {
          const row = await deliveries.ensure({
            ...base(target),
            content: null,
            status: 'dead',
            errorCode: failure.code,
            errorMessage: failure.message,
            failureKind: 'permanent',
          })
          rows.push(await service.record(row))
        }
        throw error
      }

      const rows: DeliveryRow[] = []
      const outcomes: DeliveryOutcome[] = []
      // One throttle decision per request, taken only when something would be sent.
      let admitted: boolean | undefined
      const isAdmitted = async () => {
        admitted ??= critical || (await throttle.admit(recipient.userId, category, request.requestId))
        return admitted
      }
      for (const target of targets) {
        const common = base(target)
        let row: DeliveryRow
        if (!target.address) {
          row = await deliveries.ensure({
            ...common,
            content: null,
            status: 'failed',
            errorCode: 'NO_ADDRESS',
            errorMessage: `no ${target.channel} address is known for user ${recipient.userId}`,
          })
        } else if (!critical && (await preferences.isOptedOut(recipient.userId, category, target.channel))) {
          row = await deliveries.ensure({ ...common, content: null, status: 'suppressed' })
        } else {
          const content = JSON.stringify(rendered.get(target.channel))
          if (!(await isAdmitted())) {
            const limit = throttle.limitOf(category)
            row = await ensureCounted({
              ...common,
              content,
              status: 'throttled',
              errorCode: 'THROTTLED',
              errorMessage: `more than ${limit?.limit} ${category} notifications for this user within ${limit?.windowMs} ms`,
            })
          } else {
            const wait = waitOf(requestedDue, quiet)
            // Only what would go out now is collected: critical, scheduled and held requests never wait twice.
            const digest =
              wait.status === 'queued' && !critical
                ? await digests.place(template, target.channel, common.recipient)
                : undefined
            row = await ensureCounted(
              digest
                ? { ...common, content, status: 'digested', ...digest, data: JSON.stringify(request.data) }
                : { ...common, content, ...wait },
            )
          }
          if (context.replay && row.status === 'dead') {
            await deliveries.revive(row, content)
            row = (await deliveries.get(row.id)) ?? row
            // Its request was cancelled meanwhile: counted as a cancel makes it.
            if (row.status === 'cancelled') deps.onStatus?.({ channel: row.channel, status: row.status })
          }
        }
        // A delivery with a due time belongs to the due-time poller: the stream never sends it.
        const outcome: DeliveryOutcome =
          row.dueAt !== null && !SETTLED_STATUSES.has(row.status as DeliveryStatus)
            ? { kind: 'settled', status: row.status as DeliveryStatus, row }
            : await service.deliver(row, { lastDelivery: context.lastDelivery })
        outcomes.push(outcome)
        rows.push(outcome.row)
      }
      settleOutcomes(outcomes)
      return rows
    },

    /**
     * Dispatches many requests, each decided as `dispatch` decides it, with shared writes (see `batch.ts`);
     * resolves to one result per request, in order. Throws only when the batch as a whole failed (a database
     * error): the caller then dispatches each request alone. `pending`: the caller's directory writes, still to
     * make (with the deliveries when the batch can be recorded and sent in one transaction).
     */
    dispatchBatch: (items: readonly BatchItem[], pending?: PendingContacts): Promise<BatchResult[]> =>
      dispatchBatch(
        { ...deps, dispatch: (request, context) => api.dispatch(request, context) },
        items,
        pending,
      ),
  }
  return api
}

export type Dispatcher = ReturnType<typeof createDispatcher>
