/** Redis stream ids (`<ms>-<seq>`): parsing and ordering without losing precision. */

/** A stream id as a pair of bigints, so ids compare exactly. */
export interface ParsedStreamId {
  readonly ms: bigint
  readonly seq: bigint
}

/** Parses `ms-seq` (or a bare `ms`, meaning `ms-0`). */
const parseStreamId = (id: string): ParsedStreamId => {
  const [ms, seq] = id.split('-')
  return { ms: BigInt(ms ?? '0'), seq: BigInt(seq ?? '0') }
}

/** Negative when `a` comes before `b`, zero when equal, positive after. */
export const compareStreamIds = (a: string, b: string): number => {
  const x = parseStreamId(a)
  const y = parseStreamId(b)
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1
  return 0
}

/** The smallest of some stream ids. */
export const minStreamId = (first: string, ...rest: string[]): string =>
  rest.reduce((min, id) => (compareStreamIds(id, min) < 0 ? id : min), first)

/** The first id a time in milliseconds maps to (`<ms>-0`). */
export const streamIdAt = (ms: number): string => `${Math.max(0, Math.floor(ms))}-0`
