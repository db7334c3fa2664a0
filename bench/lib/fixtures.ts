/** Shared benchmark inputs: fixed ~200-byte events, a bounded in-flight runner, unique stream names. */
import { createEvent, type EventOf, encodeEntry } from '@flotilla/contracts'

/** A `user.login.succeeded` event whose JSON envelope is about 200 bytes once the id and time are filled. */
export const benchEvent = (i: number): EventOf<'user.login.succeeded'> =>
  createEvent('user.login.succeeded', { userId: `u_${i % 10_000}`, method: 'password' }, { source: 'bench' })

export const benchEntry = (i: number) => encodeEntry(benchEvent(i))

/** Runs `task(i)` for i in [0, total) with at most `limit` promises in flight. */
export const withInFlight = async (
  total: number,
  limit: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < total) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, total) }, worker))
}

export const benchStream = (name: string) => `bench:${name}:${crypto.randomUUID().slice(0, 8)}`
