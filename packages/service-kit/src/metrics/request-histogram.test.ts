import { describe, expect, it } from 'bun:test'
import { Histogram, Registry } from './prom.ts'
import { createRequestHistogram } from './request-histogram.ts'

const BUCKETS = [0.005, 0.01, 0.1, 1]
const config = { name: 'http_request_duration_seconds', help: 'HTTP request duration', buckets: BUCKETS }
const observations: [method: string, route: string, status: number, seconds: number][] = [
  ['GET', '/v1/widgets/:id', 200, 0.004],
  ['GET', '/v1/widgets/:id', 200, 0.005],
  ['GET', '/v1/widgets/:id', 200, 0.02],
  ['GET', '/v1/widgets/:id', 404, 0.3],
  ['POST', '/v1/widgets', 201, 7],
  ['POST', 'unmatched', 404, 0.0001],
  ['GET', '/v1/"odd"\\route\n', 500, 0.5],
]

/** The same observations on prom-client's own histogram and on the kit's, each in a registry with a default label. */
const both = () => {
  const theirs = new Registry()
  const ours = new Registry()
  for (const registry of [theirs, ours]) registry.setDefaultLabels({ service: 'test' })
  const reference = new Histogram({
    ...config,
    labelNames: ['method', 'route', 'status'] as const,
    registers: [theirs],
  })
  const histogram = createRequestHistogram(ours, config)
  for (const [method, route, status, seconds] of observations) {
    reference.observe({ method, route, status: String(status) }, seconds)
    histogram.observe(method, route, status, seconds)
  }
  return { theirs, ours }
}

describe('createRequestHistogram', () => {
  it('renders exactly what prom-client’s histogram renders for the same observations', async () => {
    const { theirs, ours } = both()
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  it('reads the same as JSON, and resets with the registry', async () => {
    const { theirs, ours } = both()
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON())
    ours.resetMetrics()
    theirs.resetMetrics()
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).not.toContain('_count')
  })
})
