/**
 * The first attempt of fresh `queued` deliveries as a batch: one claim, one send step per transport (one
 * transaction for a transport that writes to this database: the outbox), one settle and one publish; a send
 * that failed continues alone through the chain.
 */
import { RetryLaterError } from '@flotilla/streams'
import type { SendRequest, SendResult, Transport } from '../channels/types.ts'
import { TransportError } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import { type BreakerOf, sendRequestOf, sendWithinTx } from './providers.ts'
import type { OutcomePublisher } from './publishing.ts'
import type { SendChain } from './send-chain.ts'
import type { DeliveryOutcome, DeliveryServiceDeps, SendOutcome } from './service-types.ts'
import type { Failure } from './store.ts'

export const createFreshSender = (
  deps: DeliveryServiceDeps,
  breakerOf: BreakerOf,
  { sendFrom, giveUp }: SendChain,
  { publishOutcomes }: Pick<OutcomePublisher, 'publishOutcomes'>,
) => {
  const { batchStore, limiter } = deps

  /** The first attempt of fresh `queued` deliveries, as a batch (see `deliverBatch`). */
  const deliverFresh = async (
    fresh: readonly { row: DeliveryRow; lastDelivery: boolean; transport: Transport }[],
  ): Promise<Map<string, Promise<DeliveryOutcome>>> => {
    const outcomes = new Map<string, Promise<DeliveryOutcome>>()
    const later = (id: string, outcome: Promise<DeliveryOutcome>) => {
      outcome.catch(() => {})
      outcomes.set(id, outcome)
    }
    // A provider with a rate gets its sends one by one, each as its slot comes (a batch would send them all at the
    // last slot, in a burst); the others (the outbox) need no slot.
    const admitted: (typeof fresh)[number][] = []
    await Promise.all(
      fresh.map(async (item) => {
        if (limiter.limits(item.transport.provider))
          return later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
        try {
          await limiter.acquire(item.transport.provider)
          admitted.push(item)
        } catch (error) {
          if (!(error instanceof RetryLaterError)) return later(item.row.id, Promise.reject(error))
          const failure: Failure = { code: 'RATE_LIMITED', message: error.message, kind: 'transient' }
          later(
            item.row.id,
            item.lastDelivery
              ? giveUp(item.row, 'dead', failure)
              : Promise.resolve({ kind: 'retry', delayMs: error.delayMs, failure, row: item.row }),
          )
        }
      }),
    )
    type Item = (typeof admitted)[number]
    const leaseUntil = Date.now() + deps.leaseMs
    const requestOf = ({ row, transport }: Item) => sendRequestOf(row, row.keyGeneration, transport.provider)
    /** A send whose answer is known, with its attempt; `writtenAt`: when it was recorded `sent` (a local transport). */
    const accepted: { item: Item; attempt: number; ok: SendResult; writtenAt?: number | undefined }[] = []
    const answered = (item: Item, attempt: number, outcome: SendOutcome, writtenAt?: number) => {
      if ('ok' in outcome) accepted.push({ item, attempt, ok: outcome.ok, writtenAt })
      else later(item.row.id, sendFrom(item.row, item.lastDelivery, 0, { attempt, outcome }))
    }
    const groups = new Map<Transport, Item[]>()
    for (const item of admitted) groups.set(item.transport, [...(groups.get(item.transport) ?? []), item])

    // A transport writing to this database: claim, send and record in one transaction per transport.
    for (const [transport, group] of groups) {
      if (!transport.sendBatchWithin) continue
      groups.delete(transport)
      const byId = new Map(group.map((item) => [item.row.id, item]))
      const done = await batchStore.claimAndSendMany(
        group.map(({ row }) => ({ id: row.id, provider: transport.provider })),
        leaseUntil,
        async (tx, taken) => {
          const answers = await sendWithinTx(
            breakerOf,
            transport,
            tx,
            taken.map((id) => requestOf(byId.get(id) as Item)),
          )
          return new Map(taken.map((id, i) => [id, answers[i] as SendResult | Error]))
        },
      )
      for (const item of group) {
        const got = done.get(item.row.id)
        // Taken meanwhile by another worker (or settled): `sendFrom` reads where it stands.
        if (!got) later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
        else
          answered(
            item,
            got.attempt,
            got.answer instanceof Error ? { error: got.answer } : { ok: got.answer },
            got.at,
          )
      }
    }

    // Every other transport: one claim, the sends, one settle.
    const apart = [...groups.values()].flat()
    const claimed =
      apart.length > 0
        ? await batchStore.claimMany(
            apart.map(({ row, transport }) => ({ id: row.id, provider: transport.provider })),
            leaseUntil,
          )
        : new Map<string, number>()
    // Taken meanwhile by another worker (or settled): `deliver` reads where it stands.
    const mine = apart.filter((item) => {
      if (claimed.has(item.row.id)) return true
      later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
      return false
    })
    const byTransport = new Map<Transport, typeof mine>()
    for (const item of mine)
      byTransport.set(item.transport, [...(byTransport.get(item.transport) ?? []), item])
    const results = new Map<string, SendOutcome>()
    await Promise.all(
      [...byTransport].map(async ([transport, group]) => {
        const breaker = breakerOf(transport.channel, 0, transport.provider)
        const requests = group.map(requestOf)
        if (transport.sendBatch) {
          const sendBatch = transport.sendBatch.bind(transport)
          const answers = await breaker
            .execute(() => sendBatch(requests))
            .then(
              (all) => all.map((a) => (a instanceof TransportError ? { error: a } : { ok: a })),
              (error: unknown) => group.map(() => ({ error })),
            )
          for (const [i, { row }] of group.entries()) results.set(row.id, answers[i] as SendOutcome)
          return
        }
        await Promise.all(
          group.map(async ({ row }, i) => {
            const outcome = await breaker
              .execute(() => transport.send(requests[i] as SendRequest))
              .then(
                (ok) => ({ ok }),
                (error: unknown) => ({ error }),
              )
            results.set(row.id, outcome)
          }),
        )
      }),
    )
    for (const item of mine)
      answered(item, claimed.get(item.row.id) as number, results.get(item.row.id) as SendOutcome)
    if (accepted.length === 0) return outcomes
    const settling = (async () => {
      const now = Date.now()
      const toWrite = accepted.filter((a) => a.writtenAt === undefined)
      const written =
        toWrite.length > 0
          ? await batchStore.markSentMany(
              toWrite.map(({ item, attempt, ok }) => ({
                id: item.row.id,
                attempt,
                provider: item.transport.provider,
                providerMessageId: ok.providerMessageId,
              })),
              now,
            )
          : new Set<string>()
      for (const a of accepted) if (a.writtenAt !== undefined) written.add(a.item.row.id)
      // Rows as just written; one another worker moved on meanwhile is read back (as `markSent` reads it).
      const moved = accepted.filter(({ item }) => !written.has(item.row.id)).map(({ item }) => item.row.id)
      const current = moved.length > 0 ? await batchStore.getMany(moved) : new Map<string, DeliveryRow>()
      const rows = accepted.map(({ item, attempt, ok, writtenAt }): DeliveryRow => {
        if (!written.has(item.row.id)) {
          const row = current.get(item.row.id)
          if (!row) throw new Error(`delivery ${item.row.id} disappeared`)
          return row
        }
        return {
          ...item.row,
          status: 'sent',
          attempts: attempt,
          provider: item.transport.provider,
          providerMessageId: ok.providerMessageId,
          sentAt: writtenAt ?? now,
          updatedAt: writtenAt ?? now,
          leaseUntil: 0,
          errorCode: null,
          errorMessage: null,
          failedOver: false,
        }
      })
      for (const { item } of accepted)
        deps.onAttempt?.({ channel: item.row.channel, provider: item.transport.provider, outcome: 'sent' })
      return publishOutcomes(rows)
    })()
    for (const [i, { item }] of accepted.entries())
      later(
        item.row.id,
        settling.then(
          (rows): DeliveryOutcome => ({ kind: 'settled', status: 'sent', row: rows[i] as DeliveryRow }),
        ),
      )
    return outcomes
  }

  return deliverFresh
}
