/** The Redis the benchmarks use (`REDIS_URL`, default local). Benchmarks use their own keys and delete them. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const redisPort = Number(new URL(REDIS_URL).port || 6379)
