/**
 * Decode + upcast cost: what a consumer pays per event when it handles v2 of `user.password.changed` and the
 * stream still carries v1. Pure CPU, no Redis: `decodeEntry` (JSON.parse + the version's compiled schema) alone,
 * then followed by the handler map's step (`upcastEvent`: v1 → v2 through the family file's upcaster), against
 * the same decode of a v2 event handed over as is. `bun bench/versions.ts [events per round]` (or
 * BENCH_VERSIONS_EVENTS with `bun run bench versions`).
 */
import { loadavg } from 'node:os'
import { createEvent, decodeEntry, encodeEntry, upcastEvent } from '@flotilla/contracts'
import { type Contender, compare, section } from './lib/harness.ts'

// `bun run bench versions` passes its own arguments: only a direct run reads the count from argv.
const PER_ROUND = Number(
  (import.meta.main ? process.argv[2] : undefined) ?? process.env.BENCH_VERSIONS_EVENTS ?? 50_000,
)

const records = (version: 1 | 2) =>
  Array.from({ length: 1000 }, (_, i) => {
    const event =
      version === 1
        ? createEvent(
            'user.password.changed',
            { userId: `u_${i}`, via: 'settings' },
            { source: 'bench', version: 1 },
          )
        : createEvent('user.password.changed', { userId: `u_${i}`, reason: 'change' }, { source: 'bench' })
    const [a, b, c, d] = encodeEntry(event)
    return { [a]: b, [c]: d }
  })

const v1 = records(1)
const v2 = records(2)

const contender = (name: string, input: typeof v1, upcast: boolean): Contender => ({
  name,
  run: async () => {
    const t = performance.now()
    for (let i = 0; i < PER_ROUND; i++) {
      const decoded = decodeEntry(input[i % input.length]!)
      if (!decoded.ok) throw new Error('bench event did not decode')
      if (upcast && !upcastEvent(decoded.event, 2).ok) throw new Error('bench event did not upcast')
    }
    return { ops: PER_ROUND, seconds: (performance.now() - t) / 1000 }
  },
})

export const run = () =>
  compare({
    title: `Decode + upcast, user.password.changed (${PER_ROUND.toLocaleString('en')} events per round)`,
    unit: 'events/s',
    rounds: 7,
    warmup: 2,
    contenders: [
      contender('decode v2 (handled as is)', v2, true),
      contender('decode v1', v1, false),
      contender('decode v1 + upcast to v2', v1, true),
    ],
  })

export const report = async (): Promise<string> => {
  const result = await run()
  const us = (name: string) => 1e6 / (result.results.find((r) => r.name === name)?.median ?? Number.NaN)
  const upcastCost = us('decode v1 + upcast to v2') - us('decode v1')
  return section(result, 'decode v2 (handled as is)', undefined, [
    `Per event: decode v2 ${us('decode v2 (handled as is)').toFixed(2)} µs, decode v1 ${us('decode v1').toFixed(2)} µs, ` +
      `decode v1 + upcast ${us('decode v1 + upcast to v2').toFixed(2)} µs: the upcast step adds about ` +
      `${upcastCost.toFixed(2)} µs (a new envelope object and payload; the decoded event is never mutated, as audit ` +
      'stores what was published). The drain benchmark\'s "contract decode alone" line is the same decode on a ' +
      `different event. Load average (1 min) at the end of this run: ${loadavg()[0]?.toFixed(1)}.`,
  ])
}

if (import.meta.main) console.log(await report())
