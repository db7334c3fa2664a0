/** A strict reader of the Prometheus text exposition format (0.0.4), for tests and smoke checks. */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`
// Prometheus parses values with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
const VALUE =
  '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?[Ii][Nn][Ff]|[Nn][Aa][Nn])'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,(?:${LABEL}))*,?)?\\})? (${VALUE})(?: -?\\d+)?$`)
const HELP = new RegExp(`^# HELP (${NAME}) .*$`)
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g

const toNumber = (text: string) =>
  text.endsWith('Inf')
    ? text.startsWith('-')
      ? -Infinity
      : Infinity
    : text === 'NaN'
      ? Number.NaN
      : Number(text)

/** Parses exposition text; throws on the first line that is not valid, naming it. */
export const parseExposition = (text: string): { samples: Sample[]; types: Map<string, string> } => {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '' || HELP.test(line)) continue
    const type = TYPE.exec(line)
    if (type) {
      types.set(type[1]!, type[2]!)
      continue
    }
    const sample = SAMPLE.exec(line)
    if (!sample) throw new Error(`line ${index + 1} is not valid exposition format: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (sample[2] ?? '').matchAll(LABEL_PAIR)) labels[key!] = value!
    samples.push({ name: sample[1]!, labels, value: toNumber(sample[3]!) })
  }
  return { samples, types }
}
