/**
 * The exporters that `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` name, as Go
 * contrib's `autoexport` makes them: our stdout exporters for `console`, and
 * the official OTLP exporter packages for `otlp`, over protobuf or JSON as
 * the protocol variables say, to the configured endpoint; and for metrics
 * `prometheus`, the official pull reader (`./prometheus.ts`).
 *
 * dice hands the OTLP packages the endpoint and timeout it read and
 * checked (`internal/otlp_config.ts`); they read the rest of their settings
 * (headers, compression, certificates, metric temporality) from the
 * `OTEL_EXPORTER_OTLP_*` variables themselves, as the specification says.
 * What the permissions would make fail on every export, an endpoint they
 * forbid or a certificate file dice may not read, is refused here at start
 * instead, in one line.
 *
 * @module
 */

import { OTLPLogExporter as OTLPJsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as OTLPProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter as OTLPJsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as OTLPJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { MeterProvider } from "@opentelemetry/api";
import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import {
  type MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Config, Signal, SignalConfig } from "../internal/config.ts";
import {
  type StdoutExporterOptions,
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout/mod.ts";
import { newPrometheusReader } from "./prometheus.ts";

/** The exporters of each signal, made by {@linkcode newExporters}. */
export interface Exporters {
  /** The metric exporters. */
  readonly metrics: PushMetricExporter[];
  /**
   * Makes the metric readers: one that pushes to each of the metric
   * exporters periodically, then Prometheus's pull reader, listening.
   */
  metricReaders(): Promise<MetricReader[]>;
  /** Makes the span exporters; the OTLP ones count in `selfObs`. */
  spans(selfObs?: MeterProvider): SpanExporter[];
  /** Makes the log record exporters; the OTLP ones count in `selfObs`. */
  logs(selfObs?: MeterProvider): LogRecordExporter[];
}

/** Exporters given instead of the configured ones, as tests give them. */
export interface GivenExporters {
  /** Replaces the configured span exporters (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
  /** Replaces the configured metric exporters. */
  metricExporter?: PushMetricExporter;
  /** Replaces the configured log record exporters. */
  logRecordExporter?: LogRecordExporter;
}

/**
 * The exporters `config` names for each signal, or the ones `given`. The
 * span and log record exporters are made on demand, once the meter
 * provider that counts what they export exists.
 */
export function newExporters(
  config:
    & Pick<
      Config,
      "traces" | "metrics" | "logs" | "consoleFormat" | "prometheus"
    >
    & MetricReaderConfig,
  sink: StdoutExporterOptions["sink"],
  given: GivenExporters = {},
): Exporters {
  const stdout = { sink, format: config.consoleFormat };
  const metrics = given.metricExporter
    ? [given.metricExporter]
    : newMetricExporters(config.metrics, stdout);
  return {
    metrics,
    metricReaders: () =>
      newMetricReaders(metrics, config, !given.metricExporter),
    spans: (selfObs) =>
      given.spanExporter
        ? [given.spanExporter]
        : newSpanExporters(config.traces, stdout, selfObs),
    logs: (selfObs) =>
      given.logRecordExporter
        ? [given.logRecordExporter]
        : newLogRecordExporters(config.logs, stdout, selfObs),
  };
}

/**
 * Makes the span exporters that `traces` names; the OTLP ones count what
 * they export and fail in `selfObs`.
 */
export function newSpanExporters(
  traces: SignalConfig,
  stdout: StdoutExporterOptions,
  selfObs?: MeterProvider,
): SpanExporter[] {
  return traces.exporters.map((name) => {
    if (name === "console") return new StdoutSpanExporter(stdout);
    assertNetPermission(traces.endpoint, "traces");
    assertCertificatesReadable(traces);
    const options = otlpOptions(traces, selfObs);
    return traces.protocol === "http/json"
      ? new OTLPJsonTraceExporter(options)
      : new OTLPProtoTraceExporter(options);
  });
}

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

/** Makes the push metric exporters that `metrics` names: all but Prometheus. */
export function newMetricExporters(
  metrics: SignalConfig,
  stdout: StdoutExporterOptions,
): PushMetricExporter[] {
  const pushed = metrics.exporters.filter((name) => name !== "prometheus");
  return pushed.map((name) => {
    if (name === "console") return new StdoutMetricExporter(stdout);
    assertNetPermission(metrics.endpoint, "metrics");
    assertCertificatesReadable(metrics);
    const options = otlpOptions(metrics);
    return metrics.protocol === "http/json"
      ? new OTLPJsonMetricExporter(options)
      : new OTLPProtoMetricExporter(options);
  });
}

/**
 * Makes the log record exporters that `logs` names; the OTLP ones count
 * what they export and fail in `selfObs`.
 */
export function newLogRecordExporters(
  logs: SignalConfig,
  stdout: StdoutExporterOptions,
  selfObs?: MeterProvider,
): LogRecordExporter[] {
  return logs.exporters.map((name) => {
    if (name === "console") return new StdoutLogRecordExporter(stdout);
    assertNetPermission(logs.endpoint, "logs");
    assertCertificatesReadable(logs);
    const options = otlpOptions(logs, selfObs);
    return logs.protocol === "http/json"
      ? new OTLPJsonLogExporter(options)
      : new OTLPProtoLogExporter(options);
  });
}

// What dice read and checked is what the exporter uses: the packages would
// read the raw variables again, and take "1e3" or 3000000000 as they come.
function otlpOptions(signal: SignalConfig, selfObs?: MeterProvider) {
  return {
    url: signal.endpoint,
    timeoutMillis: signal.timeoutMillis,
    selfObsMeterProvider: selfObs,
  };
}

/** Exporting somewhere the permissions forbid would fail on every batch: say so once, at start. */
function assertNetPermission(endpoint: string, signal: Signal): void {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const host = `${url.hostname}:${port}`;
  const { state } = Deno.permissions.querySync({ name: "net", host });
  if (state === "granted") return;
  throw new Error(
    `the OTLP ${signal} endpoint ${host} is not in dice's network permissions; ` +
      `add "${host}" to permissions.default.net in deno.json, or run ` +
      `deno run -P --allow-net=${host} main.ts`,
  );
}

/**
 * The OTLP packages read the certificate files that the variables name when
 * they are made, whatever the endpoint's scheme; a read that the
 * permissions deny is only a warning there, and then every export fails on
 * the certificate. The permissions cannot know the path in advance: name
 * it, and the flag that allows it, at start.
 */
function assertCertificatesReadable(signal: SignalConfig): void {
  for (const [name, path] of Object.entries(signal.certificates)) {
    const { state } = Deno.permissions.querySync({ name: "read", path });
    if (state === "granted") continue;
    throw new Error(
      `${name} names ${JSON.stringify(path)}, which dice may not read; ` +
        `run deno run -P --allow-read=${shellWord(path)} main.ts`,
    );
  }
}

/** `word` as one shell word: as it is when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}
