/**
 * The metric readers of one setup: the SDK's periodic reader for each push
 * exporter (console, OTLP), and Prometheus's pull reader, which serves the
 * metrics on `OTEL_EXPORTER_PROMETHEUS_HOST` and `_PORT` while it runs.
 *
 * @module
 */

import {
  type MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import type { Config } from "../internal/config.ts";
import { newPrometheusReader } from "./prometheus.ts";

/** How often the metric exporters are pushed to, and for how long. */
export type MetricReaderConfig = Pick<
  Config,
  "metricExportIntervalMillis" | "metricExportTimeoutMillis"
>;

/**
 * A reader that pushes to each of `exporters` periodically, then, when
 * `config` names it and `configured` (no exporter given instead), the
 * Prometheus reader, its server listening.
 */
export async function newMetricReaders(
  exporters: PushMetricExporter[],
  config: Pick<Config, "metrics" | "prometheus"> & MetricReaderConfig,
  configured = true,
): Promise<MetricReader[]> {
  const readers: MetricReader[] = exporters.map((exporter) =>
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: config.metricExportIntervalMillis,
      exportTimeoutMillis: config.metricExportTimeoutMillis,
    })
  );
  if (configured && config.metrics.exporters.includes("prometheus")) {
    readers.push(await newPrometheusReader(config.prometheus));
  }
  return readers;
}
