/** The machine and versions a benchmark ran on, for the report header. */
import { cpus, totalmem } from 'node:os'

export const describeEnvironment = async (redisVersion: () => Promise<string>): Promise<string> => {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return [
    `- started: ${new Date().toISOString()}`,
    `- machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- Bun ${Bun.version} (${process.platform}/${process.arch}), Redis ${await redisVersion()}`,
  ].join('\n')
}
