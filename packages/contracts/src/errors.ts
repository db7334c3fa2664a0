/** The one error a contract check produces: every problem, each with its path. */

export interface ContractProblem {
  /** JSON pointer into the stream entry: `/event/payload/userId`, `/type`. */
  readonly path: string
  readonly message: string
}

/** An entry or event that breaks the wire contract. Never retryable: it goes to the dead-letter stream at once. */
export class ContractError extends Error {
  readonly code = 'CONTRACT_VIOLATION'
  override readonly name = 'ContractError'
  readonly problems: readonly ContractProblem[]

  constructor(problems: readonly ContractProblem[], options?: { cause?: unknown }) {
    super(
      `event breaks the contract: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`,
      options,
    )
    this.problems = problems
  }
}
