/**
 * Where revocations live and how they travel: three sorted sets and one pub/sub channel, named after the events
 * stream every service already shares (hash-tagged like the dead-letter streams, so the sets share one slot on
 * Redis Cluster), and the one message shape auth publishes and every verifier reads.
 */

/** What can be revoked: a session (`sid`), every token of a user issued before a time, a signing key (`kid`). */
export type RevocationKind = 'sessions' | 'users' | 'keys'

/** One revoked thing: its id and its score (sessions, keys: when it may be forgotten; users: revoked-before, ms). */
export type RevocationEntry = readonly [id: string, score: number]

/** A message on the revocation channel: entries of one kind. */
export interface RevocationMessage {
  readonly kind: RevocationKind
  readonly entries: readonly RevocationEntry[]
}

export const REVOCATION_KINDS: readonly RevocationKind[] = ['sessions', 'users', 'keys']

/** Redis names of the revocation list of one events stream. */
export interface RevocationNames {
  readonly channel: string
  readonly sets: Readonly<Record<RevocationKind, string>>
}

/** The names for the events stream `stream` (`{events}:revoked:sessions`, channel `{events}:revocations`). */
export const revocationNames = (stream: string): RevocationNames => ({
  channel: `{${stream}}:revocations`,
  sets: {
    sessions: `{${stream}}:revoked:sessions`,
    users: `{${stream}}:revoked:users`,
    keys: `{${stream}}:revoked:keys`,
  },
})

const MAX_ID_LENGTH = 200

/** Parses a channel message; anything else than the shape auth writes is ignored (undefined). */
export const parseRevocationMessage = (raw: string): RevocationMessage | undefined => {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object') return undefined
  const { kind, entries } = value as { kind?: unknown; entries?: unknown }
  if (!REVOCATION_KINDS.includes(kind as RevocationKind) || !Array.isArray(entries)) return undefined
  const valid = entries.filter(
    (e): e is RevocationEntry =>
      Array.isArray(e) &&
      typeof e[0] === 'string' &&
      e[0].length > 0 &&
      e[0].length <= MAX_ID_LENGTH &&
      typeof e[1] === 'number' &&
      Number.isFinite(e[1]),
  )
  return { kind: kind as RevocationKind, entries: valid }
}
