/**
 * Side-by-side benchmark harness: candidates and baselines run alternately (A B A B …) after a warm-up, so
 * drift on a shared machine hits all of them alike; results are medians with min–max and ratios.
 */

export interface Measurement {
  /** Work done in the round (events, requests, verifications…). */
  readonly ops: number
  readonly seconds: number
  /** Extra numbers a round reports (latency percentiles, RSS…), summarised by median. */
  readonly extra?: Readonly<Record<string, number>>
}

export interface Contender {
  readonly name: string
  /** Runs one round. Setup that must not be timed belongs in `prepare`. */
  readonly run: () => Promise<Measurement>
  readonly prepare?: () => Promise<void>
}

export interface ContenderResult {
  readonly name: string
  readonly rates: readonly number[]
  readonly median: number
  readonly min: number
  readonly max: number
  readonly extra: Readonly<Record<string, number>>
}

export interface ComparisonResult {
  readonly title: string
  readonly unit: string
  readonly rounds: number
  /** Passes per round (see `compare`); 1 when each contender ran its round in one go. */
  readonly slices?: number
  readonly results: readonly ContenderResult[]
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * A round of latency samples as a measurement: sorts `latencies` in place and reports the given percentiles and
 * the maximum (`p50 ms`, …, `max ms`).
 */
export const latencyMeasurement = (
  latencies: number[],
  ops: number,
  seconds: number,
  percentiles: readonly number[],
): Measurement => {
  latencies.sort((a, b) => a - b)
  const extra: Record<string, number> = {}
  for (const p of percentiles) extra[`p${p} ms`] = percentile(latencies, p)
  extra['max ms'] = latencies.at(-1) ?? Number.NaN
  return { ops, seconds, extra }
}

/**
 * Times a consumer round: starts `consumer`, polls `done()` every 5 ms, and returns the seconds from the start to
 * done; the consumer is closed after (not timed).
 */
export const timeConsumer = async (
  consumer: { start(): Promise<unknown>; close(): Promise<unknown> },
  done: () => boolean,
): Promise<number> => {
  const start = performance.now()
  await consumer.start()
  while (!done()) await Bun.sleep(5)
  const seconds = (performance.now() - start) / 1000
  await consumer.close()
  return seconds
}

/** Times one async block. */
export const timed = async (ops: number, body: () => Promise<void>): Promise<Measurement> => {
  const start = performance.now()
  await body()
  return { ops, seconds: (performance.now() - start) / 1000 }
}

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(2) : n.toPrecision(3)

/** Two decimals, or two significant digits for ratios too small for that (0.0012×). */
const fmtRatio = (ratio: number): string => (ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2))

/**
 * Runs every contender `rounds` times, interleaved, after `warmup` untimed rounds each. With `slices` above 1 a
 * round is that many passes over the contenders, each contender doing one slice of its round's work per pass
 * (`run` then does 1/`slices` of the work) and the passes rotating who goes first: every contender's round
 * then spans the same stretch of time, so a burst of load from elsewhere on a shared machine, or the garbage one
 * contender leaves, falls on all of them alike rather than on whoever ran in that window or after that one.
 * A round's rate is its summed work over its summed time; its extras are averaged weighted by work.
 */
export const compare = async (options: {
  readonly title: string
  readonly unit?: string
  readonly rounds?: number
  readonly warmup?: number
  readonly slices?: number
  readonly contenders: readonly Contender[]
}): Promise<ComparisonResult> => {
  const rounds = Math.max(5, options.rounds ?? 5)
  const warmup = options.warmup ?? 1
  const slices = Math.max(1, options.slices ?? 1)
  const unit = options.unit ?? 'ops/s'
  const contenders = options.contenders
  const rates = new Map<string, number[]>()
  const extras = new Map<string, Map<string, number[]>>()
  for (const c of contenders) {
    rates.set(c.name, [])
    extras.set(c.name, new Map())
  }
  const total = warmup + rounds
  for (let round = 0; round < total; round++) {
    const sums = contenders.map(() => ({ ops: 0, seconds: 0, extra: new Map<string, number[]>() }))
    for (let slice = 0; slice < slices; slice++) {
      const first = slices === 1 ? 0 : (round * slices + slice) % contenders.length
      for (let k = 0; k < contenders.length; k++) {
        const index = (first + k) % contenders.length
        const c = contenders[index]!
        await c.prepare?.()
        const m = await c.run()
        const sum = sums[index]!
        sum.ops += m.ops
        sum.seconds += m.seconds
        for (const [key, v] of Object.entries(m.extra ?? {})) {
          // [work-weighted sum, work, plain sum, passes]: weighted by work unless no pass reported any.
          const acc = sum.extra.get(key) ?? [0, 0, 0, 0]
          sum.extra.set(key, [acc[0]! + v * m.ops, acc[1]! + m.ops, acc[2]! + v, acc[3]! + 1])
        }
      }
    }
    if (round >= warmup) {
      contenders.forEach((c, index) => {
        const sum = sums[index]!
        rates.get(c.name)!.push(sum.ops / sum.seconds)
        for (const [k, [weighted, work, plain, passes]] of sum.extra) {
          const list = extras.get(c.name)!.get(k) ?? []
          list.push(work! > 0 ? weighted! / work! : plain! / passes!)
          extras.get(c.name)!.set(k, list)
        }
      })
    }
    process.stderr.write(
      `\r  ${options.title}: round ${round + 1}/${total}${round < warmup ? ' (warm-up)' : ''}   `,
    )
  }
  process.stderr.write('\n')
  const results = contenders.map((c) => {
    const r = rates.get(c.name)!
    const extra = Object.fromEntries([...extras.get(c.name)!].map(([k, v]) => [k, median(v)]))
    return { name: c.name, rates: r, median: median(r), min: Math.min(...r), max: Math.max(...r), extra }
  })
  return { title: options.title, unit, rounds, slices, results }
}

/**
 * A target on a ratio, checked per round: round i's value is round i's rate of `contender` ÷ round i's rate of
 * `baseline` (they ran back to back), so "met" means met in every round, not only by the medians.
 */
export interface TargetCheck {
  /** What the target is about, e.g. `publish: publisher.publish ÷ raw ioredis (auto-pipelined)`. */
  readonly name: string
  /** The limit, e.g. 0.8 for "≥ 0.8×" (or 2 for "≤ 2×" when `higherIsBetter` is false). */
  readonly limit: number
  readonly higherIsBetter: boolean
  /** One value per round. */
  readonly values: readonly number[]
}

/** What a benchmark's `report` returns: its markdown section and the targets it checked. */
export interface BenchReport {
  readonly markdown: string
  readonly checks: readonly TargetCheck[]
}

/** `bun run bench --quick`: small sizes, nothing written, ratios checked against half their targets. */
export interface BenchOptions {
  readonly quick?: boolean
}

const ratesOf = (result: ComparisonResult, name: string): readonly number[] => {
  const found = result.results.find((r) => r.name === name)
  if (!found) throw new Error(`${result.title}: no contender named "${name}"`)
  return found.rates
}

/** The per-round ratio of two contenders of one comparison against a "≥ limit×" target. */
export const ratioTarget = (
  result: ComparisonResult,
  options: { name: string; contender: string; baseline: string; limit: number },
): TargetCheck => {
  const a = ratesOf(result, options.contender)
  const b = ratesOf(result, options.baseline)
  return {
    name: options.name,
    limit: options.limit,
    higherIsBetter: true,
    values: a.map((rate, i) => rate / b[i]!),
  }
}

/**
 * Per round, the rate of doing `parts` one after the other on one thread: 1 ÷ Σ (1 ÷ rate), each part's rate
 * from the same round. What a consumer that runs those parts in series would reach, neither overlapping them nor
 * adding work of its own: an estimate measured in the run, not a strict bound (a part measured alone may include
 * waits the consumer hides behind another).
 */
export const serialRates = (result: ComparisonResult, parts: readonly string[]): number[] => {
  const rates = parts.map((part) => ratesOf(result, part))
  return rates[0]!.map((_, i) => 1 / rates.reduce((sum, r) => sum + 1 / r[i]!, 0))
}

/**
 * "This run's reach": per round, a ceiling (a ceiling contender's name, or one rate per round from
 * `serialRates`) ÷ that round's baseline against a "≥ limit×" target, and how much of that ceiling the candidate
 * reached.
 * Each rate is one round's measurement, so a candidate can run past a ceiling in a noisy round.
 */
export const reachOf = (
  result: ComparisonResult,
  options: {
    /** What the ceiling is, as the start of a sentence ("The stream runtime alone and the insert alone, one after the other,"). */
    readonly ceilingName: string
    readonly ceiling: string | readonly number[]
    readonly contender: string
    readonly baseline: string
    /** The baseline in the sentence, when its contender name is long. @defaultValue the name */
    readonly baselineName?: string
    readonly limit: number
  },
): string => {
  const base = ratesOf(result, options.baseline)
  const own = ratesOf(result, options.contender)
  const ceiling = typeof options.ceiling === 'string' ? ratesOf(result, options.ceiling) : options.ceiling
  const ratios = ceiling.map((rate, i) => rate / base[i]!)
  const reached = own.map((rate, i) => rate / ceiling[i]!)
  const within = ratios.filter((r) => r >= options.limit).length
  const range = (values: readonly number[], f: (v: number) => string) =>
    `${f(Math.min(...values))}–${f(Math.max(...values))} (median ${f(median(values))})`
  const pct = (v: number) => `${Math.round(v * 100)}%`
  const ratio = (v: number) => `${fmtRatio(v)}×`
  const rounds = ratios.length
  const verdict =
    within === rounds
      ? 'it met the target in every round'
      : within === 0
        ? 'it missed the target in every round'
        : `it met the target in ${within} of ${rounds} rounds`
  return `**This run’s reach.** ${options.ceilingName} ran at ${range(ratios, ratio)} of ${options.baselineName ?? `\`${options.baseline}\``} per round, against the target ≥ ${options.limit}×: ${verdict}. Round by round, the candidate ran at ${range(reached, pct)} of that ceiling.`
}

export const isMet = (check: TargetCheck, value: number): boolean =>
  check.higherIsBetter ? value >= check.limit : value <= check.limit

/** The smoke alarm of `--quick`: the median is worse than half the target (or twice it, for a "≤" target). */
export const belowHalfTarget = (check: TargetCheck): boolean => {
  const m = median(check.values)
  return check.higherIsBetter ? m < check.limit / 2 : m > check.limit * 2
}

export const medianOf = median

/** `≥ 0.8×` / `≤ 2×`. */
export const describeLimit = (check: TargetCheck): string =>
  `${check.higherIsBetter ? '≥' : '≤'} ${check.limit}×`

/** One line for a section: the target, the per-round min–max and median, and how many rounds met it. */
export const verdict = (check: TargetCheck): string => {
  const met = check.values.filter((v) => isMet(check, v)).length
  const lo = Math.min(...check.values)
  const hi = Math.max(...check.values)
  return `**Target ${describeLimit(check)} (${check.name}): ${met === check.values.length ? 'met' : 'missed'} — met in ${met} of ${check.values.length} rounds** — per-round ratio ${fmtRatio(lo)}–${fmtRatio(hi)}×, median ${fmtRatio(median(check.values))}×.`
}

/** Markdown table of one comparison, ratios against the named baseline. */
const toMarkdown = (result: ComparisonResult, baseline: string, target?: string): string => {
  const base = result.results.find((r) => r.name === baseline)
  const extraKeys = [...new Set(result.results.flatMap((r) => Object.keys(r.extra)))]
  const lines = [
    `### ${result.title}`,
    '',
    `${result.rounds} interleaved rounds after warm-up${(result.slices ?? 1) > 1 ? ` (each ${result.slices} passes over the contenders, first place rotating)` : ''}; median (min–max) ${result.unit}; ratio = median ÷ median of \`${baseline}\`${target ? `; target ${target}` : ''}.`,
    '',
    `| contender | median ${result.unit} | min–max | ratio |${extraKeys.map((k) => ` ${k} |`).join('')}`,
    `| --- | --- | --- | --- |${extraKeys.map(() => ' --- |').join('')}`,
  ]
  for (const r of result.results) {
    const ratio = base ? fmtRatio(r.median / base.median) : '—'
    lines.push(
      `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)}–${fmt(r.max)} | ${ratio}× |${extraKeys.map((k) => ` ${r.extra[k] === undefined ? '—' : fmt(r.extra[k]!)} |`).join('')}`,
    )
  }
  return lines.join('\n')
}

/** A markdown section: the table, then notes as paragraphs (an empty note is left out). */
export const section = (
  result: ComparisonResult,
  baseline: string,
  target: string | undefined,
  notes: readonly string[] = [],
): string => [toMarkdown(result, baseline, target), ...notes.filter(Boolean)].join('\n\n')

/** A comparison's section with its targets checked per round: the table, a verdict line per target, the notes. */
export const reportOf = (
  result: ComparisonResult,
  baseline: string,
  checks: readonly TargetCheck[],
  notes: readonly string[] = [],
): BenchReport => ({
  markdown: section(
    result,
    baseline,
    checks.map((c) => `${describeLimit(c)} (${c.name})`).join('; ') || undefined,
    [...checks.map(verdict), ...notes],
  ),
  checks,
})
