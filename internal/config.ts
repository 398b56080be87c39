/**
 * Reads the service's settings from environment variables.
 *
 * The `OTEL_*` rules follow the OpenTelemetry SDK environment-variable
 * specification: an empty value means unset, enumerations are
 * case-insensitive, and a value that cannot be used is reported in one line
 * and replaced by the default. `PORT`, and the OTLP endpoint and headers of
 * a signal exported over OTLP, are the exceptions: a service that cannot
 * listen or export where it was told to must not do it somewhere else, so
 * a bad value is a {@linkcode ConfigError}.
 *
 * The service reads its settings here, but for the certificate paths that
 * `exporters/autoexport.ts` checks the read permission of. The OTLP exporter
 * packages read the rest of `OTEL_EXPORTER_OTLP_*` (headers, compression,
 * certificates, temporality) themselves; the endpoint, the protocol and the
 * timeout are read here and handed to them, since they decide which package
 * to use, which host the permissions must allow, and how long a shutdown
 * may wait. The headers are checked here too, so that a value that would
 * fail every export stops the service at start.
 *
 * @module
 */

import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { ConsoleFormat } from "../exporters/stdout/mod.ts";

export type { ConsoleFormat };

/** Where one signal's telemetry goes. */
export type ExporterName = "console" | "otlp";

/** The OTLP transports this service can use. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** The context propagators this service can use. */
export type PropagatorName = "tracecontext" | "baggage";

/** The samplers the SDK provides, by their specification names. */
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/** The telemetry signals. */
export type Signal = "traces" | "metrics" | "logs";

/** Where one signal goes and how. */
export interface SignalConfig {
  /** `OTEL_{SIGNAL}_EXPORTER`; empty for `none`. */
  exporters: ExporterName[];
  /** `OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`. */
  protocol: OtlpProtocol;
  /**
   * Where the OTLP exporter sends: `OTEL_EXPORTER_OTLP_{SIGNAL}_ENDPOINT` as
   * is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/{signal}` appended.
   */
  endpoint: string;
  /**
   * `OTEL_EXPORTER_OTLP_{SIGNAL}_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`:
   * milliseconds one OTLP export may take.
   */
  timeoutMillis: number;
}

/** The settings of a batch processor (`OTEL_BSP_*` or `OTEL_BLRP_*`). */
export interface BatchConfig {
  /** Milliseconds between two exports. */
  scheduledDelayMillis: number;
  /** Milliseconds one export may take. */
  exportTimeoutMillis: number;
  /** Items kept waiting at most; more are dropped. */
  maxQueueSize: number;
  /** Items per export at most. */
  maxExportBatchSize: number;
}

/** Span limits (`OTEL_SPAN_*`, `OTEL_ATTRIBUTE_*`), in the SDK's terms. */
export interface SpanLimitsConfig {
  /** Characters kept of a string attribute value. */
  attributeValueLengthLimit: number;
  /** Attributes kept per span. */
  attributeCountLimit: number;
  /** Events kept per span. */
  eventCountLimit: number;
  /** Links kept per span. */
  linkCountLimit: number;
  /** Attributes kept per event. */
  attributePerEventCountLimit: number;
  /** Attributes kept per link. */
  attributePerLinkCountLimit: number;
}

/** Log record limits (`OTEL_LOGRECORD_*`, `OTEL_ATTRIBUTE_*`). */
export interface LogRecordLimitsConfig {
  /** Characters kept of a string attribute value. */
  attributeValueLengthLimit: number;
  /** Attributes kept per log record. */
  attributeCountLimit: number;
}

/** Everything the service reads from its environment. */
export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
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
  /** `OTEL_PROPAGATORS`, in order; empty for `none`. */
  propagators: PropagatorName[];
  /** `OTEL_TRACES_SAMPLER` and, for the ratio samplers, `OTEL_TRACES_SAMPLER_ARG`. */
  sampler: { name: SamplerName; ratio: number };
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
   * `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, and `OTEL_SERVICE_NAME` as
   * `service.name` over it.
   */
  resourceAttributes: Readonly<Record<string, string>>;
}

/** Where the OTLP exporters send when no endpoint is set. */
export const DEFAULT_OTLP_ENDPOINT = "http://localhost:4318";

/** How long an OTLP export may take when no timeout is set, in ms. */
export const DEFAULT_OTLP_TIMEOUT_MILLIS = 10_000;

function consoleOnly(signal: Signal): SignalConfig {
  return Object.freeze({
    exporters: Object.freeze(["console"]) as ExporterName[],
    protocol: "http/protobuf",
    endpoint: `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`,
    timeoutMillis: DEFAULT_OTLP_TIMEOUT_MILLIS,
  });
}

/**
 * The defaults. Exporters default to `console`, as in the Go walkthrough
 * (the specification's default is `otlp`), and the intervals are the
 * walkthrough's demo values: spans every second and metrics every 3 s,
 * where the specification says 5 s and 60 s (for log records it says 1 s
 * too), so that output appears while you watch. Attribute values are cut
 * at 4096 characters (the specification sets no limit): a queue of 2048
 * items then holds megabytes, not the gigabytes that 64 KiB request
 * headers could fill it with.
 */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  consoleFormat: "pretty",
  // Under Kubernetes' default 30 s grace period, with room to spare.
  shutdownTimeoutMillis: 20_000,
  sdkDisabled: false,
  sdkMetrics: false,
  traces: consoleOnly("traces"),
  metrics: consoleOnly("metrics"),
  logs: consoleOnly("logs"),
  propagators: Object.freeze(["tracecontext", "baggage"]) as PropagatorName[],
  sampler: Object.freeze({ name: "parentbased_always_on", ratio: 1 }),
  bsp: Object.freeze({
    scheduledDelayMillis: 1000,
    exportTimeoutMillis: 30_000,
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
  }),
  blrp: Object.freeze({
    scheduledDelayMillis: 1000,
    exportTimeoutMillis: 30_000,
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
  }),
  metricExportIntervalMillis: 3000,
  metricExportTimeoutMillis: 3000,
  spanLimits: Object.freeze({
    attributeValueLengthLimit: 4096,
    attributeCountLimit: 128,
    eventCountLimit: 128,
    linkCountLimit: 128,
    attributePerEventCountLimit: 128,
    attributePerLinkCountLimit: 128,
  }),
  logRecordLimits: Object.freeze({
    attributeValueLengthLimit: 4096,
    attributeCountLimit: 128,
  }),
  resourceAttributes: Object.freeze({}),
}) as Config;

/**
 * The longest time a millisecond setting may name: Deno's timers, like the
 * browsers', hold a signed 32-bit delay, and a longer one fires at once.
 */
export const MAX_MILLIS = 2 ** 31 - 1;

// `raw` quoted as JSON, so that no control character reaches the terminal,
// and cut at 100 characters.
function shown(raw: string): string {
  return JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);
}

// An endpoint said back without the user and password it may carry.
function withoutCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, "$1…@");
}

/**
 * How long a shutdown waits for open connections before it flushes the
 * telemetry anyway: a quarter of `DICE_SHUTDOWN_TIMEOUT`, the rest being
 * the telemetry's.
 */
export function drainMillis(shutdownTimeoutMillis: number): number {
  return Math.floor(shutdownTimeoutMillis / 4);
}

/** Looks up one environment variable; `Deno.env.get` fits. */
export type EnvLookup = (name: string) => string | undefined;

/** A setting that cannot be used at all, such as a bad `PORT`. */
export class ConfigError extends Error {
  /** Names the class in stack traces and `String(error)`. */
  override name = "ConfigError";
}

/** Reads variables and reports each unusable one once through `warn`. */
class Reader {
  readonly #said = new Set<string>();

  constructor(
    readonly env: EnvLookup,
    readonly warn: (message: string) => void,
  ) {}

  /** Says `message` once, however many signals read the same variable. */
  say(message: string): void {
    if (this.#said.has(message)) return;
    this.#said.add(message);
    this.warn(message);
  }

  /** The trimmed value, or undefined when unset or blank. */
  get(name: string): string | undefined {
    const value = this.env(name)?.trim();
    return value ? value : undefined;
  }

  reject<T>(name: string, raw: string, accepts: string, fallback: T): T {
    this.say(
      `${name} must be ${accepts}, got ${shown(raw)}; using ${
        Array.isArray(fallback) ? fallback.join(",") || "none" : fallback
      }`,
    );
    return fallback;
  }

  /**
   * A whole number of milliseconds, or of items, at least `min`; at most
   * {@linkcode MAX_MILLIS} milliseconds.
   */
  integer(name: string, fallback: number, min: number, unit: string): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const max = unit === "milliseconds" ? MAX_MILLIS : Number.MAX_SAFE_INTEGER;
    // Digits only: "1e3", "0x10" and "12ms" are typos here, not numbers.
    const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (value >= min && value <= max) return value;
    const accepts =
      (min === 0 ? "a non-negative integer" : "a positive integer") +
      ` number of ${unit}` + (unit === "milliseconds" ? ` up to ${max}` : "");
    return this.reject(name, raw, accepts, fallback);
  }

  oneOf<T extends string>(
    name: string,
    accepted: readonly T[],
    fallback: T,
  ): T {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = accepted.find((candidate) => candidate === raw.toLowerCase());
    if (value !== undefined) return value;
    return this.reject(name, raw, `one of ${accepted.join(", ")}`, fallback);
  }

  /**
   * A comma-separated list of `accepted` names or `none`. Unknown entries
   * are reported in one line and skipped; when none is left, the default
   * is used.
   */
  list<T extends string>(
    name: string,
    accepted: readonly T[],
    fallback: readonly T[],
  ): T[] {
    const raw = this.get(name);
    if (raw === undefined) return [...fallback];
    const entries = raw.toLowerCase().split(",").map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const known = entries.filter((entry): entry is T =>
      (accepted as readonly string[]).includes(entry)
    );
    const unknown = entries.filter((entry) =>
      entry !== "none" && !known.includes(entry as T)
    );
    const chosen = [...new Set(known)];
    if (unknown.length === 0) return chosen;
    const kept = chosen.length > 0 ? chosen : [...fallback];
    this.say(
      `${name} accepts a comma-separated list of ${
        accepted.join(", ")
      } or none; ` +
        `${unknown.map((entry) => JSON.stringify(entry)).join(", ")} ${
          unknown.length === 1 ? "is" : "are"
        } not supported; using ${kept.join(",") || "none"}`,
    );
    return kept;
  }

  boolean(name: string): boolean {
    const raw = this.get(name);
    if (raw === undefined) return false;
    if (raw.toLowerCase() === "true") return true;
    if (raw.toLowerCase() === "false") return false;
    return this.reject(name, raw, "true or false", false);
  }
}

/**
 * Reads {@linkcode Config} through `env`, calling `warn` once for each
 * variable that is set to a value it cannot use.
 *
 * @throws {ConfigError} when `PORT` is not a port number.
 */
export function readConfig(
  env: EnvLookup,
  warn: (message: string) => void,
): Config {
  const read = new Reader(env, warn);
  const metricExportIntervalMillis = read.integer(
    "OTEL_METRIC_EXPORT_INTERVAL",
    DEFAULT_CONFIG.metricExportIntervalMillis,
    1,
    "milliseconds",
  );
  sayUnsupported(read);
  const config: Config = {
    port: readPort(read),
    consoleFormat: read.oneOf(
      "DICE_CONSOLE_FORMAT",
      ["pretty", "compact"],
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
    traces: readSignal(read, "traces"),
    metrics: readSignal(read, "metrics"),
    logs: readSignal(read, "logs"),
    propagators: read.list(
      "OTEL_PROPAGATORS",
      ["tracecontext", "baggage"],
      DEFAULT_CONFIG.propagators,
    ),
    sampler: readSampler(read),
    bsp: readBatch(read, "OTEL_BSP", DEFAULT_CONFIG.bsp),
    blrp: readBatch(read, "OTEL_BLRP", DEFAULT_CONFIG.blrp),
    metricExportIntervalMillis,
    metricExportTimeoutMillis: readMetricExportTimeout(
      read,
      metricExportIntervalMillis,
    ),
    ...readLimits(read),
    resourceAttributes: readResourceAttributes(read),
  };
  sayShutdownTooShort(read, config);
  return config;
}

// A shutdown gives open connections a quarter of its time, then the OTLP
// exporters their timeout and half a second: a longer timeout than fits is
// said at start, not found out at the deadline.
function sayShutdownTooShort(read: Reader, config: Config): void {
  const signals = [config.traces, config.metrics, config.logs]
    .filter((signal) => signal.exporters.includes("otlp"));
  const longest = Math.max(0, ...signals.map((s) => s.timeoutMillis));
  const drain = drainMillis(config.shutdownTimeoutMillis);
  if (
    signals.length === 0 ||
    drain + longest + 500 <= config.shutdownTimeoutMillis
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

// Variables of the specification that dice does not act on: said, so that
// nobody wonders why setting them changes nothing.
const UNSUPPORTED: Readonly<Record<string, string>> = {
  OTEL_LOG_LEVEL: "the SDK's own diagnostics are printed from warn up",
  OTEL_CONFIG_FILE: "dice is configured by environment variables only",
};

function sayUnsupported(read: Reader): void {
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    const raw = read.get(name);
    if (raw === undefined) continue;
    read.say(
      `${name} is not supported by dice (${why}); ignoring ${
        JSON.stringify(raw)
      }`,
    );
  }
}

// The model-specific variables (OTEL_SPAN_*, OTEL_LOGRECORD_*) win over the
// general ones (OTEL_ATTRIBUTE_*), which win over the defaults.
function readLimits(
  read: Reader,
): Pick<Config, "spanLimits" | "logRecordLimits"> {
  const span = DEFAULT_CONFIG.spanLimits;
  const valueLength = read.integer(
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    span.attributeValueLengthLimit,
    1,
    "characters",
  );
  const count = read.integer(
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    span.attributeCountLimit,
    0,
    "attributes",
  );
  return {
    spanLimits: {
      attributeValueLengthLimit: read.integer(
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        valueLength,
        1,
        "characters",
      ),
      attributeCountLimit: read.integer(
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        count,
        0,
        "attributes",
      ),
      eventCountLimit: read.integer(
        "OTEL_SPAN_EVENT_COUNT_LIMIT",
        span.eventCountLimit,
        0,
        "events",
      ),
      linkCountLimit: read.integer(
        "OTEL_SPAN_LINK_COUNT_LIMIT",
        span.linkCountLimit,
        0,
        "links",
      ),
      attributePerEventCountLimit: read.integer(
        "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
        span.attributePerEventCountLimit,
        0,
        "attributes",
      ),
      attributePerLinkCountLimit: read.integer(
        "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        span.attributePerLinkCountLimit,
        0,
        "attributes",
      ),
    },
    logRecordLimits: {
      attributeValueLengthLimit: read.integer(
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        valueLength,
        1,
        "characters",
      ),
      attributeCountLimit: read.integer(
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
        count,
        0,
        "attributes",
      ),
    },
  };
}

function readPort(read: Reader): number {
  const raw = read.get("PORT");
  if (raw === undefined) return DEFAULT_CONFIG.port;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) {
    throw new ConfigError(
      `PORT must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`,
    );
  }
  return port;
}

const PROTOCOLS = ["http/protobuf", "http/json", "grpc"] as const;

function readSignal(read: Reader, signal: Signal): SignalConfig {
  const exporters = read.list(
    `OTEL_${signal.toUpperCase()}_EXPORTER`,
    ["console", "otlp"],
    DEFAULT_CONFIG[signal].exporters,
  );
  const [protocolName] = otlpSetting(read, signal, "PROTOCOL");
  let protocol = read.oneOf(protocolName, PROTOCOLS, "http/protobuf");
  if (protocol === "grpc") {
    read.say(
      `${protocolName}=grpc is not supported by dice (it would bring ` +
        "@grpc/grpc-js into the binary); using http/protobuf, which " +
        "OpenTelemetry collectors accept on port 4318",
    );
    protocol = "http/protobuf";
  }
  const [timeoutName] = otlpSetting(read, signal, "TIMEOUT");
  // Where nothing is exported over OTLP, its endpoint and headers are moot.
  const otlp = exporters.includes("otlp");
  // The packages merge the general headers into the signal's own: both.
  const specificHeaders = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`;
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", specificHeaders]) {
    if (otlp) checkHeaders(name, read.get(name));
  }
  return {
    exporters,
    protocol,
    endpoint: otlp
      ? readEndpoint(read, signal)
      : `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`,
    timeoutMillis: read.integer(
      timeoutName,
      DEFAULT_OTLP_TIMEOUT_MILLIS,
      1,
      "milliseconds",
    ),
  };
}

// The signal's own OTLP variable when it is set, else the general one: the
// name to read, and its value.
function otlpSetting(
  read: Reader,
  signal: Signal,
  setting: "PROTOCOL" | "TIMEOUT" | "HEADERS" | "ENDPOINT",
): [string, string | undefined] {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${setting}`;
  const value = read.get(specific);
  if (value !== undefined) return [specific, value];
  const general = `OTEL_EXPORTER_OTLP_${setting}`;
  return [general, read.get(general)];
}

// As the OTLP exporter packages would, so that what they were told and what
// the permissions are checked against are the same URL. An endpoint that
// cannot be used stops the service: exporting to the default instead would
// send telemetry somewhere nobody asked for.
function readEndpoint(read: Reader, signal: Signal): string {
  const [name, raw] = otlpSetting(read, signal, "ENDPOINT");
  if (raw === undefined) return `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`;
  const url = URL.parse(raw);
  if (url === null || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new ConfigError(
      `${name} must be an http:// or https:// URL with a host, such as ` +
        `${DEFAULT_OTLP_ENDPOINT}, got ${shown(withoutCredentials(raw))}`,
    );
  }
  if (name.endsWith(`_${signal.toUpperCase()}_ENDPOINT`)) return raw;
  url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/${signal}`;
  return url.href;
}

// The OTLP exporters read the headers themselves; checked here, so that a
// value that would fail every export stops the service at start instead.
const MAX_HEADERS_LENGTH = 8192;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What fetch sends as a header value: Latin-1 bytes, no controls but tab.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkHeaders(name: string, raw: string | undefined): void {
  const problem = raw === undefined ? undefined : headersProblem(raw);
  if (problem === undefined) return;
  throw new ConfigError(
    `${name} must be a comma-separated list of name=value pairs, with ` +
      "HTTP token names, values without control characters (percent-" +
      `encoded where needed) and at most ${MAX_HEADERS_LENGTH} characters ` +
      `in all; ${problem}`,
  );
}

function headersProblem(raw: string): string | undefined {
  if (raw.length > MAX_HEADERS_LENGTH) return `got ${raw.length} characters`;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    // Values may be secrets: a problem is said without them.
    const equals = entry.indexOf("=");
    if (equals < 0) return 'an entry has no "="';
    // The packages percent-decode names and values before they send them.
    const key = percentDecoded(entry.slice(0, equals).trim());
    if (key === undefined || !HEADER_NAME.test(key)) {
      return `a name is not a token`;
    }
    const value = percentDecoded(entry.slice(equals + 1).trim());
    if (value === undefined || !HEADER_VALUE.test(value)) {
      return `the value of ${key} is not usable`;
    }
  }
  return undefined;
}

function percentDecoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const SAMPLERS: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

function readSampler(read: Reader): Config["sampler"] {
  const name = read.oneOf(
    "OTEL_TRACES_SAMPLER",
    SAMPLERS,
    DEFAULT_CONFIG.sampler.name,
  );
  // The argument means something to the ratio samplers only.
  if (!name.endsWith("traceidratio")) return { name, ratio: 1 };
  const raw = read.get("OTEL_TRACES_SAMPLER_ARG");
  if (raw === undefined) return { name, ratio: 1 };
  const ratio = /^(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  if (ratio >= 0 && ratio <= 1) return { name, ratio };
  return {
    name,
    ratio: read.reject(
      "OTEL_TRACES_SAMPLER_ARG",
      raw,
      "a probability from 0 to 1",
      1,
    ),
  };
}

function readBatch(
  read: Reader,
  prefix: "OTEL_BSP" | "OTEL_BLRP",
  defaults: BatchConfig,
): BatchConfig {
  const maxQueueSize = read.integer(
    `${prefix}_MAX_QUEUE_SIZE`,
    defaults.maxQueueSize,
    1,
    "items",
  );
  let maxExportBatchSize = read.integer(
    `${prefix}_MAX_EXPORT_BATCH_SIZE`,
    defaults.maxExportBatchSize,
    1,
    "items",
  );
  if (maxExportBatchSize > maxQueueSize) {
    // The specification: the batch size must not exceed the queue size.
    maxExportBatchSize = read.reject(
      `${prefix}_MAX_EXPORT_BATCH_SIZE`,
      String(maxExportBatchSize),
      `at most ${prefix}_MAX_QUEUE_SIZE (${maxQueueSize})`,
      Math.min(defaults.maxExportBatchSize, maxQueueSize),
    );
  }
  return {
    scheduledDelayMillis: read.integer(
      `${prefix}_SCHEDULE_DELAY`,
      defaults.scheduledDelayMillis,
      0,
      "milliseconds",
    ),
    exportTimeoutMillis: read.integer(
      `${prefix}_EXPORT_TIMEOUT`,
      defaults.exportTimeoutMillis,
      1,
      "milliseconds",
    ),
    maxQueueSize,
    maxExportBatchSize,
  };
}

// The SDK refuses a metric export timeout longer than the interval.
function readMetricExportTimeout(read: Reader, interval: number): number {
  const fallback = Math.min(30_000, interval);
  const timeout = read.integer(
    "OTEL_METRIC_EXPORT_TIMEOUT",
    fallback,
    1,
    "milliseconds",
  );
  if (timeout <= interval) return timeout;
  return read.reject(
    "OTEL_METRIC_EXPORT_TIMEOUT",
    String(timeout),
    `at most OTEL_METRIC_EXPORT_INTERVAL (${interval})`,
    interval,
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

// The specification's format: `key=value` pairs, comma-separated, with
// `,` and `=` percent-encoded. The resources package's detector parses the
// same, but only from the process environment, and keeps its parser private.
const MAX_RESOURCE_ENTRY_LENGTH = 255;

function readResourceAttributes(read: Reader): Record<string, string> {
  const raw = read.get("OTEL_RESOURCE_ATTRIBUTES");
  const attributes = raw === undefined ? {} : parseResourceAttributes(raw);
  if (attributes === undefined) {
    // A malformed value is ignored as a whole, as the specification says.
    read.say(
      "OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value " +
        "pairs, with ',' and '=' inside keys and values percent-encoded and " +
        `each key and value at most ${MAX_RESOURCE_ENTRY_LENGTH} characters; ` +
        `got ${shown(raw!)}; ignoring it`,
    );
  }
  const serviceName = read.get("OTEL_SERVICE_NAME");
  return {
    ...attributes,
    ...(serviceName === undefined ? {} : { [ATTR_SERVICE_NAME]: serviceName }),
  };
}

function parseResourceAttributes(
  raw: string,
): Record<string, string> | undefined {
  const attributes: Record<string, string> = {};
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const pair = entry.split("=");
    if (pair.length !== 2 || pair[0].trim() === "") return undefined;
    let key, value;
    try {
      [key, value] = pair.map((part) => decodeURIComponent(part.trim()));
    } catch {
      return undefined;
    }
    if (
      key.length > MAX_RESOURCE_ENTRY_LENGTH ||
      value.length > MAX_RESOURCE_ENTRY_LENGTH
    ) return undefined;
    attributes[key] = value;
  }
  return attributes;
}
