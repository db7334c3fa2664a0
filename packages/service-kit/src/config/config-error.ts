/** The one error configuration loading produces: every problem, each naming its variable. */

export interface ConfigProblem {
  /** The environment variable at fault (`PORT`, `SERVICE_TOKEN_SECRET`). */
  readonly variable: string
  readonly message: string
}

/** Thrown by `loadConfig` when any variable is missing or invalid; lists them all at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly problems: readonly ConfigProblem[]

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.variable}: ${p.message}`)
        .join('\n')}`,
    )
    this.problems = problems
  }
}
