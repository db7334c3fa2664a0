/**
 * The grace-window result: the winner of a rotation stores its new pair sealed with a key derived from
 * the old refresh token (so only a holder of that token can read it, and Redis never holds a usable
 * token); a concurrent loser presenting the same old token opens it and answers with the same pair.
 */
import { authError } from '../errors.ts'
import { deriveSealingKey } from '../keys/sealing.ts'
import type { TokenPair } from './model.ts'
import type { SessionStore } from './store.ts'

const POLL_MS = 25

const sealerFor = (oldToken: string) => deriveSealingKey(oldToken, 'refresh-grace')
const boundTo = (sid: string, oldHash: string) => `${sid}:${oldHash}`

/** Creates the grace helpers; a loser waits up to `waitMs` for the winner's result, then gets a 409. */
export const createGrace = (sessions: SessionStore, waitMs: number) => ({
  /** Stores the winner's pair for the old token (only while `newHash` is still current). */
  async save(
    sid: string,
    oldToken: string,
    oldHash: string,
    newHash: string,
    pair: TokenPair,
  ): Promise<void> {
    const sealer = await sealerFor(oldToken)
    await sessions.saveGraceResult(
      sid,
      newHash,
      await sealer.seal(JSON.stringify(pair), boundTo(sid, oldHash)),
    )
  },

  /** The winner's pair for a loser holding the same old token; 409 `REFRESH_IN_PROGRESS` when it is late. */
  async await(sid: string, oldToken: string, oldHash: string): Promise<TokenPair> {
    const sealer = await sealerFor(oldToken)
    const deadline = Date.now() + waitMs
    for (;;) {
      const sealed = await sessions.graceResult(sid, oldHash)
      if (sealed) return JSON.parse(await sealer.open(sealed, boundTo(sid, oldHash))) as TokenPair
      if (Date.now() >= deadline) break
      await Bun.sleep(POLL_MS)
    }
    throw authError(
      409,
      'REFRESH_IN_PROGRESS',
      'a concurrent refresh is finishing: retry with the same token',
      1,
    )
  },
})
