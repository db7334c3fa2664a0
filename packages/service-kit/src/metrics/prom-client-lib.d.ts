// Types of the prom-client files `prom.ts` imports: each exports one member of the package's index.
declare module 'prom-client/lib/counter' {
  const Counter: typeof import('prom-client').Counter
  export default Counter
}
declare module 'prom-client/lib/gauge' {
  const Gauge: typeof import('prom-client').Gauge
  export default Gauge
}
declare module 'prom-client/lib/histogram' {
  const Histogram: typeof import('prom-client').Histogram
  export default Histogram
}
declare module 'prom-client/lib/registry' {
  const Registry: typeof import('prom-client').Registry
  export default Registry
}
// Each default metric's file: registers its metrics on the registry.
declare module 'prom-client/lib/metrics/*' {
  const register: (
    registry: import('prom-client').Registry,
    config: import('prom-client').DefaultMetricsCollectorConfiguration<'text/plain; version=0.0.4; charset=utf-8'>,
  ) => void
  export default register
}
