/** Reads a `fly/<app>.toml` with Bun's built-in TOML parser (it rejects invalid TOML: duplicate keys, bad syntax). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../../scripts/lib/apps.ts'

/** The parts of a Fly app configuration the deploy tests check. */
export interface FlyConfig {
  readonly raw: string
  readonly app: string
  readonly kill_signal: string
  /** Seconds. */
  readonly kill_timeout: number
  readonly build: { readonly dockerfile: string; readonly args: Record<string, string> }
  readonly env: Record<string, string>
  readonly http_service: {
    readonly internal_port: number
    readonly auto_stop_machines: string
    readonly min_machines_running: number
    readonly concurrency: { readonly type: string; readonly soft_limit: number; readonly hard_limit: number }
    readonly checks: readonly { readonly path: string; readonly method: string }[]
  }
  readonly metrics: { readonly port: number; readonly path: string }
  /** Top-level machine checks, by name (informational: the proxy does not route by them). */
  readonly checks: Readonly<
    Record<string, { readonly type: string; readonly port: number; readonly path: string }>
  >
}

/** Parses `fly/<name>.toml`; a missing section surfaces as a failed expectation, not a crash. */
export const readFlyConfig = (name: string): FlyConfig => {
  const raw = readFileSync(join(ROOT, 'fly', `${name}.toml`), 'utf8')
  const parsed = Bun.TOML.parse(raw) as Partial<Omit<FlyConfig, 'raw'>>
  return {
    raw,
    app: parsed.app ?? '',
    kill_signal: parsed.kill_signal ?? 'SIGINT',
    kill_timeout: parsed.kill_timeout ?? 5,
    build: { dockerfile: parsed.build?.dockerfile ?? '', args: parsed.build?.args ?? {} },
    env: parsed.env ?? {},
    http_service: {
      internal_port: parsed.http_service?.internal_port ?? 0,
      auto_stop_machines: parsed.http_service?.auto_stop_machines ?? 'stop',
      min_machines_running: parsed.http_service?.min_machines_running ?? 0,
      concurrency: parsed.http_service?.concurrency ?? {
        type: 'connections',
        soft_limit: 20,
        hard_limit: 25,
      },
      checks: parsed.http_service?.checks ?? [],
    },
    metrics: parsed.metrics ?? { port: 0, path: '' },
    checks: parsed.checks ?? {},
  }
}
