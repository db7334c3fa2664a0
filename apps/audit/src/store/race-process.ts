/** What the libSQL and PostgreSQL cross-process race fixtures share: their inputs and the batched append. */
import type { RecordInput } from '../records/model.ts'
import type { AuditStore } from './types.ts'

/** What every race process is told: where its inputs are, in which order, in batches of how many. */
export interface RaceArgs {
  readonly inputsFile: string
  readonly batchSize: number
  readonly reverse: boolean
}

/** The process's argument (JSON in argv[2]): the race arguments and the store's own (`Store`). */
export const raceArgs = <Store extends object>(): RaceArgs & Store =>
  JSON.parse(process.argv[2] ?? '{}') as RaceArgs & Store

/** The record inputs of the JSON file, in reverse order when `reverse` is set. */
export const readRaceInputs = async ({ inputsFile, reverse }: RaceArgs): Promise<RecordInput[]> => {
  const inputs = (await Bun.file(inputsFile).json()) as RecordInput[]
  if (reverse) inputs.reverse()
  return inputs
}

/**
 * Appends `inputs` in batches of `batchSize` (awaiting `afterBatch` after each), closes the store and prints
 * `{ appended }` as one JSON line for the test to read.
 */
export const appendInBatches = async (
  store: AuditStore,
  inputs: readonly RecordInput[],
  batchSize: number,
  afterBatch: () => Promise<unknown> = async () => {},
): Promise<void> => {
  let appended = 0
  for (let i = 0; i < inputs.length; i += batchSize) {
    appended += (await store.append(inputs.slice(i, i + batchSize))).appended.length
    await afterBatch()
  }
  await store.close()
  console.log(JSON.stringify({ appended }))
}
