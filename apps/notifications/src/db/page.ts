/** Newest-first keyset pages of the delivery log and the outbox: created at, then id, both descending. */
import { createCursorCodec } from '@flotilla/service-kit'
import { and, eq, lt, or, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import { t } from 'elysia'

/** The last row of a page: the next page starts after it. */
export const RowPosition = t.Object({
  createdAt: t.Integer(),
  id: t.String({ minLength: 1, maxLength: 64 }),
})
export type RowPosition = typeof RowPosition.static

/** The opaque `cursor` / `nextCursor` of both listings (400 `INVALID_CURSOR` when it is not one of ours). */
export const rowCursor = createCursorCodec(RowPosition)

/** Rows after `position` in (createdAt desc, id desc) order. */
const olderThan = (
  columns: { readonly createdAt: SQLiteColumn; readonly id: SQLiteColumn },
  position: RowPosition,
): SQL | undefined =>
  or(
    lt(columns.createdAt, position.createdAt),
    and(eq(columns.createdAt, position.createdAt), lt(columns.id, position.id)),
  )

/** The position of a page's last row when more rows follow it. */
const nextPosition = (
  rows: readonly { readonly createdAt: number; readonly id: string }[],
  limit: number,
): RowPosition | null => {
  const last = rows[limit - 1]
  return rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null
}

/**
 * One newest-first page: `query` runs with the filters (plus the keyset condition after `after`) and a row
 * limit one past `limit`, so the page knows whether more rows follow.
 */
export const newestFirstPage = async <R extends { readonly createdAt: number; readonly id: string }>(
  query: (where: SQL | undefined, rows: number) => Promise<R[]>,
  columns: { readonly createdAt: SQLiteColumn; readonly id: SQLiteColumn },
  filters: readonly (SQL | undefined)[],
  after: RowPosition | undefined,
  limit: number,
): Promise<{ items: R[]; next: RowPosition | null }> => {
  const rows = await query(and(...filters, after ? olderThan(columns, after) : undefined), limit + 1)
  return { items: rows.slice(0, limit), next: nextPosition(rows, limit) }
}
