/**
 * Helpers for the tests of every package (`@flotilla/contracts/testing`): plain functions, no test runner,
 * so they run on Node too.
 */

/**
 * A table-driven check: the inputs for which `check` does not answer `expected`. A test expects `[]`, so a
 * failure names every input that broke, not only the first.
 */
export const inputsNotAnswering = <T>(
  expected: unknown,
  check: (input: T) => unknown,
  inputs: readonly T[],
): T[] => inputs.filter((input) => !Object.is(check(input), expected))

/** The same for an async check: every input is checked, one after another, in order. */
export const inputsNotAnsweringAsync = async <T>(
  expected: unknown,
  check: (input: T) => Promise<unknown>,
  inputs: readonly T[],
): Promise<T[]> => {
  const failing: T[] = []
  for (const input of inputs) if (!Object.is(await check(input), expected)) failing.push(input)
  return failing
}
