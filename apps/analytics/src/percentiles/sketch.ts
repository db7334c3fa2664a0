/** DDSketch helpers: a mergeable quantile sketch (1% relative accuracy) stored as protobuf bytes. */
import { DDSketch } from '@datadog/sketches-js'

/** Relative accuracy every stored sketch is built with (sketches only merge with equal accuracy). */
const RELATIVE_ACCURACY = 0.01

export const newSketch = (): DDSketch => new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY })

export const decodeSketch = (bytes: Uint8Array): DDSketch => DDSketch.fromProto(bytes)

export const encodeSketch = (sketch: DDSketch): Buffer => Buffer.from(sketch.toProto())

/** `payload.durationMs` when it is a finite, non-negative number. */
export const durationOf = (payload: unknown): number | undefined => {
  if (typeof payload !== 'object' || payload === null) return undefined
  const value = (payload as Record<string, unknown>).durationMs
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}
