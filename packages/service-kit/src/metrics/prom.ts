/**
 * prom-client's registry and metric classes, imported from the files that define them. Its index also loads
 * the cluster aggregator (`node:cluster`), the Pushgateway (`node:http`, `node:https`) and Summary, which no
 * service uses: ~2 MiB of resident memory in every process (measured on Bun 1.4). Same classes, same instances.
 */

import type * as Prom from 'prom-client'
import CounterClass from 'prom-client/lib/counter'
import GaugeClass from 'prom-client/lib/gauge'
import HistogramClass from 'prom-client/lib/histogram'
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag'
import gc from 'prom-client/lib/metrics/gc'
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed'
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed'
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap'
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal'
import processHandles from 'prom-client/lib/metrics/processHandles'
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors'
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors'
import processRequests from 'prom-client/lib/metrics/processRequests'
import processResources from 'prom-client/lib/metrics/processResources'
import processStartTime from 'prom-client/lib/metrics/processStartTime'
import version from 'prom-client/lib/metrics/version'
import RegistryClass from 'prom-client/lib/registry'

export type Counter<T extends string = string> = Prom.Counter<T>
export const Counter = CounterClass
export type Gauge<T extends string = string> = Prom.Gauge<T>
export const Gauge = GaugeClass
export type Histogram<T extends string = string> = Prom.Histogram<T>
export const Histogram = HistogramClass
export type Registry = Prom.Registry
export const Registry = RegistryClass

/**
 * prom-client's default metrics (the list of its `lib/defaultMetrics.js`, same options), without the per-space heap
 * gauges on Bun. They read `v8.getHeapSpaceStatistics()`, which Bun answers by walking the whole heap with the event
 * loop blocked: 4–5 ms once at registration, then every scrape ~1.7 ms on an empty heap, ~14 ms at 200,000 live
 * objects, ~60 ms at 1,000,000 (every other default metric together: ~1.5 ms); and the split is JSC's heap under
 * V8's space names. The heap's total and used stay (`nodejs_heap_size_*`, from `process.memoryUsage()`).
 */
export const collectDefaultMetrics = (register: Registry): void => {
  const metrics = [
    processCpuTotal,
    processStartTime,
    osMemoryHeap,
    processOpenFileDescriptors,
    processMaxFileDescriptors,
    eventLoopLag,
    processResources, // registers nothing where process.getActiveResourcesInfo is missing
    processHandles,
    processRequests,
    heapSizeAndUsed,
    ...(process.versions.bun ? [] : [heapSpacesSizeAndUsed]),
    version,
    gc,
  ]
  for (const metric of metrics) metric(register, { eventLoopMonitoringPrecision: 10 })
}
