/** Analytics service entry: config → dependencies → app → consumer and jobs → listen → shutdown hooks. */
import { ConfigError, onShutdown } from '@flotilla/service-kit'
import { initTelemetry, telemetryOptionsOf } from '@flotilla/telemetry'
import { createApp, VERSION } from './app.ts'
import { loadAnalyticsConfig } from './config.ts'
import { buildDeps } from './deps.ts'

const loadConfigOrExit = () => {
  try {
    return loadAnalyticsConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}

const config = loadConfigOrExit()
const telemetry = initTelemetry({
  service: 'analytics',
  version: VERSION,
  ...telemetryOptionsOf(config),
})
const deps = await buildDeps(config)
const app = createApp(deps)
await deps.consumer.start()
if (config.JOBS_ENABLED) deps.scheduler.start()
app.listen({ port: config.PORT, hostname: '0.0.0.0' })
deps.logger.info(
  {
    port: app.server?.port,
    db: config.dbUrl.startsWith('file:') ? 'file' : 'remote',
    jobs: config.JOBS_ENABLED,
  },
  'analytics listening',
)
onShutdown(
  async () => {
    await app.stop()
    await deps.close()
    await telemetry.close()
  },
  { logger: deps.logger },
)
