/**
 * The exporters that `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` name: our stdout
 * exporters for `console`, and the official OTLP exporter packages for
 * `otlp`, over protobuf or JSON as the protocol variables say.
 *
 * The OTLP packages read the rest of their settings (endpoint, headers,
 * timeout, compression, certificates, metric temporality) from the
 * `OTEL_EXPORTER_OTLP_*` variables themselves, as the specification says.
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
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import {
  type EnvLookup,
  otlpEndpointHost,
  type Signal,
  type SignalConfig,
} from "./config.ts";
import {
  type StdoutExporterOptions,
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout_exporter.ts";

/**
 * Makes the span exporters that `traces` names; the OTLP ones count what
 * they export and fail in `selfObs`.
 */
export function newSpanExporters(
  traces: SignalConfig,
  stdout: StdoutExporterOptions,
  env: EnvLookup,
  selfObs?: MeterProvider,
): SpanExporter[] {
  return traces.exporters.map((name) => {
    if (name === "console") return new StdoutSpanExporter(stdout);
    assertNetPermission(env, "traces");
    const options = { selfObsMeterProvider: selfObs };
    return traces.protocol === "http/json"
      ? new OTLPJsonTraceExporter(options)
      : new OTLPProtoTraceExporter(options);
  });
}

/** Makes the metric exporters that `metrics` names. */
export function newMetricExporters(
  metrics: SignalConfig,
  stdout: StdoutExporterOptions,
  env: EnvLookup,
): PushMetricExporter[] {
  return metrics.exporters.map((name) => {
    if (name === "console") return new StdoutMetricExporter(stdout);
    assertNetPermission(env, "metrics");
    return metrics.protocol === "http/json"
      ? new OTLPJsonMetricExporter()
      : new OTLPProtoMetricExporter();
  });
}

/**
 * Makes the log record exporters that `logs` names; the OTLP ones count
 * what they export and fail in `selfObs`.
 */
export function newLogRecordExporters(
  logs: SignalConfig,
  stdout: StdoutExporterOptions,
  env: EnvLookup,
  selfObs?: MeterProvider,
): LogRecordExporter[] {
  return logs.exporters.map((name) => {
    if (name === "console") return new StdoutLogRecordExporter(stdout);
    assertNetPermission(env, "logs");
    const options = { selfObsMeterProvider: selfObs };
    return logs.protocol === "http/json"
      ? new OTLPJsonLogExporter(options)
      : new OTLPProtoLogExporter(options);
  });
}

/** Exporting somewhere the permissions forbid would fail on every batch: say so once, at start. */
function assertNetPermission(env: EnvLookup, signal: Signal): void {
  const host = otlpEndpointHost(env, signal);
  const { state } = Deno.permissions.querySync({ name: "net", host });
  if (state === "granted") return;
  throw new Error(
    `the OTLP ${signal} endpoint ${host} is not in dice's network permissions; ` +
      `add "${host}" to permissions.default.net in deno.json, or run ` +
      `deno run -P --allow-net=${host} main.ts`,
  );
}
