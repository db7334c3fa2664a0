/**
 * Publishing the outcome event a settled delivery owes (`notification.sent`, `.failed`…), once per outcome: a
 * row's marker says it went out; a crash before the marker publishes it again under the same event id.
 */
import type { DeliveryRow } from '../db/schema.ts'
import type { DeliveryBatchStore } from './batch-store.ts'
import { type EventSink, outcomeEventOf } from './outcome-events.ts'
import type { DeliveryStore } from './store.ts'

export const createOutcomePublisher = ({
  store,
  batchStore,
  events: sink,
}: {
  readonly store: DeliveryStore
  readonly batchStore: DeliveryBatchStore
  readonly events: EventSink
}) => {
  const publishBatch = sink.publishBatch?.bind(sink)

  /** Whether the event for `marker` is published: its marker written, or owed by this process (`markPublishedLater`). */
  const published = (row: DeliveryRow, marker: string) =>
    row.publishedStatus === marker || batchStore.owedMarker(row.id) === marker

  /**
   * Publishes the outcome event a settled row owes, once (a crash before the marker republishes the same id);
   * resolves to the row after its marker.
   */
  const publishOutcome = async (row: DeliveryRow): Promise<DeliveryRow> => {
    const owed = outcomeEventOf(row)
    if (!owed || published(row, owed.marker)) return row
    await sink.publish(owed.event)
    await store.markPublished(row.id, owed.marker)
    return { ...row, publishedStatus: owed.marker }
  }

  /** `publishOutcome` for many rows: one publish call, the markers owed to the next write transaction. */
  const publishOutcomes = async (rows: readonly DeliveryRow[]): Promise<DeliveryRow[]> => {
    const owed = rows.map((row) => {
      const o = outcomeEventOf(row)
      return o && !published(row, o.marker) ? o : undefined
    })
    const events = owed.flatMap((o) => (o ? [o.event] : []))
    if (events.length === 0) return [...rows]
    if (publishBatch) await publishBatch(events)
    else await Promise.all(events.map((event) => sink.publish(event)))
    const byMarker = new Map<string, string[]>()
    rows.forEach((row, i) => {
      const o = owed[i]
      if (!o) return
      const ids = byMarker.get(o.marker)
      if (ids) ids.push(row.id)
      else byMarker.set(o.marker, [row.id])
    })
    // The markers ride in the next write transaction (no commit of their own): the events are out, and a marker
    // lost to a crash only lets a redelivery publish an event again under its same id.
    for (const [marker, ids] of byMarker) batchStore.markPublishedLater(ids, marker)
    return rows.map((row, i) => {
      const o = owed[i]
      return o ? { ...row, publishedStatus: o.marker } : row
    })
  }

  return { publishOutcome, publishOutcomes }
}

export type OutcomePublisher = ReturnType<typeof createOutcomePublisher>
