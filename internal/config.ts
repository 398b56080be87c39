/**
 * The service's settings, read once at start from the environment.
 *
 * The `OTEL_*` variables follow the SDK environment-variable specification
 * (read through {@linkcode EnvReader}): a value that cannot be used is said
 * in one line and replaced by the default. `PORT`, and the OTLP endpoint
 * and headers of a signal exported over OTLP, are the exceptions: a service
 * that cannot listen or export where it was told to must not do it
 * somewhere else, so a bad value is a {@linkcode ConfigError}, exit 2.
 *
 * What is read where:
 * - here, dice's own settings (`PORT`, `DICE_*`) and how they fit together;
 * - `internal/sdk_config.ts`, the SDK settings the packages do not read;
 * - `internal/otlp_config.ts`, where each signal goes;
 * - `internal/prometheus_config.ts`, where Prometheus scrapes the metrics;
 * - `internal/resource.ts`, the resource, read by the package's detectors.
 *
 * @module
 */

import {
  CONSOLE_FORMATS,
  type ConsoleFormat,
} from "../exporters/stdout/mod.ts";
import { DEFAULT_KNOWN_METHODS } from "../otelhttp/semconv.ts";
import { ConfigError, type EnvLookup, EnvReader, shown } from "./env.ts";
import { parseHost } from "./host.ts";
import { HTTP_TOKEN } from "./http.ts";
import {
  consoleOnly,
  readSignal,
  type SignalConfig,
  SIGNALS,
} from "./otlp_config.ts";
import {
  PROMETHEUS_DEFAULTS,
  type PrometheusConfig,
  readPrometheus,
} from "./prometheus_config.ts";
import { sayIgnoredResourceAttributes } from "./resource.ts";
import {
  BATCH_DEFAULTS,
  type BatchConfig,
  LOG_RECORD_LIMITS_DEFAULTS,
  type LogRecordLimitsConfig,
  readBatch,
  readLimits,
  readMetricExportTimeout,
  readSampler,
  type SamplerConfig,
  sayUnsupported,
  SPAN_LIMITS_DEFAULTS,
  type SpanLimitsConfig,
} from "./sdk_config.ts";
import { drainMillis, SHUTDOWN_MARGIN_MILLIS } from "./shutdown.ts";

export { ConfigError, type EnvLookup, EnvReader, MAX_MILLIS } from "./env.ts";
export {
  DEFAULT_OTLP_ENDPOINT,
  DEFAULT_OTLP_TIMEOUT_MILLIS,
  type ExporterName,
  type OtlpProtocol,
  type Signal,
  type SignalConfig,
} from "./otlp_config.ts";
export {
  type PrometheusConfig,
  refusePrometheusUnderWorkers,
} from "./prometheus_config.ts";
export type { BatchConfig, SamplerName } from "./sdk_config.ts";

/** The context propagators this service can use. */
export const PROPAGATORS = ["tracecontext", "baggage"] as const;

/** A context propagator this service can use. */
export type PropagatorName = typeof PROPAGATORS[number];

/** Everything the service reads from its environment. */
export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /**
   * `DICE_HOST`: the address to listen on, such as 127.0.0.1 for loopback
   * only; undefined for both address families.
   */
  hostname: string | undefined;
  /** `DICE_CONSOLE_FORMAT`: pretty-printed documents, or one per line. */
  consoleFormat: ConsoleFormat;
  /** `DICE_SHUTDOWN_TIMEOUT`: milliseconds a graceful shutdown may take in all. */
  shutdownTimeoutMillis: number;
  /** `OTEL_SDK_DISABLED`: no providers at all, only context propagation. */
  sdkDisabled: boolean;
  /**
   * `DICE_SDK_METRICS`: the SDK's own `otel.sdk.*` metrics, opt-in as Go's
   * are; losses are said on stderr either way.
   */
  sdkMetrics: boolean;
  /** Where traces go. */
  traces: SignalConfig;
  /** Where metrics go. */
  metrics: SignalConfig;
  /** Where logs go. */
  logs: SignalConfig;
  /** Where `OTEL_METRICS_EXPORTER=prometheus` serves the metrics. */
  prometheus: PrometheusConfig;
  /** `OTEL_PROPAGATORS`, in order; empty for `none`. */
  propagators: PropagatorName[];
  /** `OTEL_TRACES_SAMPLER` and, for the ratio samplers, `OTEL_TRACES_SAMPLER_ARG`. */
  sampler: SamplerConfig;
  /** `OTEL_BSP_*`: the span batch processor. */
  bsp: BatchConfig;
  /** `OTEL_BLRP_*`: the log record batch processor. */
  blrp: BatchConfig;
  /** `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between two metric exports. */
  metricExportIntervalMillis: number;
  /** `OTEL_METRIC_EXPORT_TIMEOUT`: milliseconds one metric export may take. */
  metricExportTimeoutMillis: number;
  /** How much of a span is kept. */
  spanLimits: SpanLimitsConfig;
  /** How much of a log record is kept. */
  logRecordLimits: LogRecordLimitsConfig;
  /**
   * `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`: the HTTP methods recorded as
   * sent; any other is recorded as `_OTHER`.
   */
  httpKnownMethods: readonly string[];
}

/**
 * The defaults. Exporters default to `console`, as in the Go walkthrough
 * (the specification's default is `otlp`), and the intervals are the
 * walkthrough's demo values: spans and log records every second and metrics
 * every 3 s, where the specification says 5 s, 1 s and 60 s, so that output
 * appears while you watch.
 */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  hostname: undefined,
  consoleFormat: "pretty",
  // Under Kubernetes' default 30 s grace period, with room to spare.
  shutdownTimeoutMillis: 20_000,
  sdkDisabled: false,
  sdkMetrics: false,
  traces: consoleOnly("traces"),
  metrics: consoleOnly("metrics"),
  logs: consoleOnly("logs"),
  prometheus: PROMETHEUS_DEFAULTS,
  propagators: Object.freeze([...PROPAGATORS]) as PropagatorName[],
  sampler: Object.freeze({ name: "parentbased_always_on", ratio: 1 }),
  bsp: BATCH_DEFAULTS,
  blrp: BATCH_DEFAULTS,
  metricExportIntervalMillis: 3000,
  metricExportTimeoutMillis: 3000,
  spanLimits: SPAN_LIMITS_DEFAULTS,
  logRecordLimits: LOG_RECORD_LIMITS_DEFAULTS,
  httpKnownMethods: DEFAULT_KNOWN_METHODS,
}) as Config;

/**
 * The configuration from the process environment, or the exit code when the
 * service must not start: 2 for a setting it cannot use, said in one line
 * through `warn`; 1 when Deno's built-in OpenTelemetry would replace it.
 */
export function readSettings(warn: (message: string) => void): Config | number {
  const env = (name: string) => Deno.env.get(name);
  if (isDenoTelemetryEnabled(env)) {
    warn(
      "OTEL_DENO is set: Deno's built-in OpenTelemetry would replace this " +
        "service's SDK and its exporters; unset OTEL_DENO to run dice",
    );
    return 1;
  }
  try {
    return readConfig(env, warn);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warn(error.message);
    return 2;
  }
}

/**
 * Reads {@linkcode Config} through `env`, calling `warn` once for each
 * variable that is set to a value it cannot use.
 *
 * @throws {ConfigError} when `PORT`, `DICE_HOST` or, for Prometheus, its
 * host and port cannot be listened on, or an OTLP endpoint or header list
 * would make every export fail.
 */
export function readConfig(
  env: EnvLookup,
  warn: (message: string) => void,
): Config {
  const read = new EnvReader(env, warn);
  const metricExportIntervalMillis = read.integer(
    "OTEL_METRIC_EXPORT_INTERVAL",
    DEFAULT_CONFIG.metricExportIntervalMillis,
    1,
    "milliseconds",
  );
  sayUnsupported(read);
  const [traces, metrics, logs] = SIGNALS.map((s) => readSignal(read, s));
  const port = readPort(read);
  const config: Config = {
    port,
    hostname: readHostname(read),
    consoleFormat: read.oneOf(
      "DICE_CONSOLE_FORMAT",
      CONSOLE_FORMATS,
      DEFAULT_CONFIG.consoleFormat,
    ),
    shutdownTimeoutMillis: read.integer(
      "DICE_SHUTDOWN_TIMEOUT",
      DEFAULT_CONFIG.shutdownTimeoutMillis,
      1,
      "milliseconds",
    ),
    sdkDisabled: read.boolean("OTEL_SDK_DISABLED"),
    sdkMetrics: read.boolean("DICE_SDK_METRICS"),
    traces,
    metrics,
    logs,
    prometheus: readPrometheus(read, metrics, port),
    propagators: read.list(
      "OTEL_PROPAGATORS",
      PROPAGATORS,
      DEFAULT_CONFIG.propagators,
    ),
    sampler: readSampler(read, DEFAULT_CONFIG.sampler.name),
    bsp: readBatch(read, "OTEL_BSP"),
    blrp: readBatch(read, "OTEL_BLRP"),
    metricExportIntervalMillis,
    metricExportTimeoutMillis: readMetricExportTimeout(
      read,
      metricExportIntervalMillis,
    ),
    ...readLimits(read),
    httpKnownMethods: readKnownMethods(read),
  };
  sayIgnoredResourceAttributes(read);
  sayShutdownTooShort(read, config);
  return config;
}

/**
 * `PORT`, or 8080.
 *
 * @throws {ConfigError} for anything but a port number.
 */
export function readPort(read: EnvReader): number {
  const raw = read.get("PORT");
  if (raw === undefined) return DEFAULT_CONFIG.port;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) {
    throw new ConfigError(
      `PORT must be an integer from 0 to 65535, got ${shown(raw)}`,
    );
  }
  return port;
}

// A comma-separated list of case-sensitive method names, which replaces the
// default list; entries that are no method name are said and skipped.
function readKnownMethods(read: EnvReader): readonly string[] {
  const name = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";
  const raw = read.get(name);
  if (raw === undefined) return DEFAULT_CONFIG.httpKnownMethods;
  const entries = raw.split(",").map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const methods = [...new Set(entries.filter((e) => HTTP_TOKEN.test(e)))];
  const bad = entries.filter((entry) => !HTTP_TOKEN.test(entry));
  const kept = methods.length > 0 ? methods : DEFAULT_CONFIG.httpKnownMethods;
  if (bad.length > 0) {
    read.say(
      `${name} accepts a comma-separated list of HTTP method names; ` +
        `${bad.map(shown).join(", ")} ${bad.length === 1 ? "is" : "are"} ` +
        `not one; using ${kept.join(",")}`,
    );
  }
  return kept;
}

/**
 * `DICE_HOST`, or undefined for both address families.
 *
 * @throws {ConfigError} for anything but an address or a host name.
 */
export function readHostname(read: EnvReader): string | undefined {
  const raw = read.get("DICE_HOST");
  return raw === undefined ? undefined : parseHost("DICE_HOST", raw);
}

// A shutdown gives open connections a quarter of its time, then the OTLP
// exporters their timeout and a margin: a longer timeout than fits is
// said at start, not found out at the deadline.
function sayShutdownTooShort(read: EnvReader, config: Config): void {
  const signals = [config.traces, config.metrics, config.logs]
    .filter((signal) => signal.exporters.includes("otlp"));
  const longest = Math.max(0, ...signals.map((s) => s.timeoutMillis));
  const drain = drainMillis(config.shutdownTimeoutMillis);
  if (
    signals.length === 0 ||
    drain + longest + SHUTDOWN_MARGIN_MILLIS <= config.shutdownTimeoutMillis
  ) {
    return;
  }
  read.say(
    `the OTLP timeout (${longest} ms) does not fit in DICE_SHUTDOWN_TIMEOUT ` +
      `(${config.shutdownTimeoutMillis} ms) after ${drain} ms for open ` +
      "connections; against a collector that does not answer, the shutdown " +
      "would be cut short: raise DICE_SHUTDOWN_TIMEOUT or lower " +
      "OTEL_EXPORTER_OTLP_TIMEOUT",
  );
}

/**
 * Reports whether `OTEL_DENO` turns on Deno's built-in OpenTelemetry, which
 * registers its own global providers before any of our code runs.
 */
export function isDenoTelemetryEnabled(env: EnvLookup): boolean {
  // Deno accepts "true" in any case, untrimmed, and nothing else (not "1").
  return env("OTEL_DENO")?.toLowerCase() === "true";
}
