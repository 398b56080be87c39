/**
 * Where each signal goes: `OTEL_{SIGNAL}_EXPORTER` and what dice reads of
 * `OTEL_EXPORTER_OTLP_*`.
 *
 * dice reads every setting of the OTLP exporters itself, but the metric
 * temporality (read by the metric exporter package): its own transport
 * (`exporters/otlp/`) sends with them, and its guarantees depend on them:
 * which host the permissions must allow, how long an export and a
 * shutdown may take, whether every export would fail, and which
 * certificate files it must be allowed to read.
 *
 * @module
 */

import type { EnvReader } from "./env.ts";
import {
  checkEndpoint,
  checkHeaders,
  DEFAULT_OTLP_ENDPOINT,
  parseHeaders,
} from "./strict.ts";

export { DEFAULT_OTLP_ENDPOINT };

/** The telemetry signals. */
export const SIGNALS = ["traces", "metrics", "logs"] as const;

/** A telemetry signal. */
export type Signal = typeof SIGNALS[number];

/** What `OTEL_{SIGNAL}_EXPORTER` accepts, besides `none`. */
export const EXPORTERS = ["console", "otlp"] as const;

/** What `OTEL_METRICS_EXPORTER` accepts: Prometheus pulls metrics only. */
export const METRIC_EXPORTERS = [...EXPORTERS, "prometheus"] as const;

/** Where one signal's telemetry goes. */
export type ExporterName = typeof METRIC_EXPORTERS[number];

/** The OTLP transports dice can use. */
export const PROTOCOLS = ["http/protobuf", "http/json"] as const;

/** An OTLP transport dice can use. */
export type OtlpProtocol = typeof PROTOCOLS[number];

/** What `OTEL_EXPORTER_OTLP_COMPRESSION` accepts. */
export const COMPRESSIONS = ["none", "gzip"] as const;

/** How an OTLP request body is compressed. */
export type Compression = typeof COMPRESSIONS[number];

/** How long an OTLP export may take when no timeout is set, in ms. */
export const DEFAULT_OTLP_TIMEOUT_MILLIS = 10_000;

// The files the OTLP packages read, by the end of their variables' names.
const CERTIFICATE_FILES = ["CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"];

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
  /**
   * `OTEL_EXPORTER_OTLP_HEADERS`, overridden name by name by
   * `OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS`; names in lower case.
   */
  headers: Readonly<Record<string, string>>;
  /** `OTEL_EXPORTER_OTLP_{SIGNAL}_COMPRESSION`, else the general one. */
  compression: Compression;
  /**
   * The certificate files the OTLP exporter will read, by the variable that
   * names each: `OTEL_EXPORTER_OTLP_{SIGNAL}_CERTIFICATE`, else the general
   * one, and likewise the client certificate and key.
   */
  certificates: Readonly<Record<string, string>>;
}

/** A signal exported to the console only, as the walkthrough does. */
export function consoleOnly(signal: Signal): SignalConfig {
  return Object.freeze({
    exporters: Object.freeze(["console"]) as ExporterName[],
    protocol: "http/protobuf",
    endpoint: `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`,
    timeoutMillis: DEFAULT_OTLP_TIMEOUT_MILLIS,
    headers: Object.freeze({}),
    compression: "none",
    certificates: Object.freeze({}),
  });
}

/**
 * Reads where `signal` goes.
 *
 * @throws {ConfigError} for an endpoint or headers that would make every
 * OTLP export of the signal fail, when the signal is exported over OTLP.
 */
export function readSignal(read: EnvReader, signal: Signal): SignalConfig {
  const exporters = read.list(
    `OTEL_${signal.toUpperCase()}_EXPORTER`,
    signal === "metrics" ? METRIC_EXPORTERS : EXPORTERS,
    consoleOnly(signal).exporters,
  );
  const [protocolName] = otlpSetting(read, signal, "PROTOCOL");
  const protocol = read.oneOf(
    protocolName,
    [...PROTOCOLS, "grpc"],
    "http/protobuf",
  );
  if (protocol === "grpc") {
    read.say(
      `${protocolName}=grpc is not supported by dice (it would bring ` +
        "@grpc/grpc-js into the binary); using http/protobuf, which " +
        "OpenTelemetry collectors accept on port 4318",
    );
  }
  const [timeoutName] = otlpSetting(read, signal, "TIMEOUT");
  // Where nothing is exported over OTLP, its endpoint and headers are moot.
  const otlp = exporters.includes("otlp");
  // The packages merge the general headers into the signal's own: both.
  const specificHeaders = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`;
  const headerNames = ["OTEL_EXPORTER_OTLP_HEADERS", specificHeaders];
  for (const name of headerNames) if (otlp) checkHeaders(name, read.get(name));
  const [compressionName] = otlpSetting(read, signal, "COMPRESSION");
  return {
    exporters,
    protocol: protocol === "grpc" ? "http/protobuf" : protocol,
    endpoint: otlp
      ? readEndpoint(read, signal)
      : `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`,
    timeoutMillis: read.integer(
      timeoutName,
      DEFAULT_OTLP_TIMEOUT_MILLIS,
      1,
      "milliseconds",
    ),
    headers: otlp
      ? Object.assign({}, ...headerNames.map((n) => parseHeaders(read.get(n))))
      : {},
    compression: read.oneOf(compressionName, COMPRESSIONS, "none"),
    certificates: otlp ? readCertificatePaths(read, signal) : {},
  };
}

// The signal's own OTLP variable when it is set, else the general one: the
// name to read, and its value.
function otlpSetting(
  read: EnvReader,
  signal: Signal,
  setting: string,
): [string, string | undefined] {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${setting}`;
  const value = read.get(specific);
  if (value !== undefined) return [specific, value];
  const general = `OTEL_EXPORTER_OTLP_${setting}`;
  return [general, read.get(general)];
}

// As the OTLP exporter packages would, so that what they were told and what
// the permissions are checked against are the same URL.
function readEndpoint(read: EnvReader, signal: Signal): string {
  const [name, raw] = otlpSetting(read, signal, "ENDPOINT");
  if (raw === undefined) return `${DEFAULT_OTLP_ENDPOINT}/v1/${signal}`;
  const url = checkEndpoint(name, raw);
  if (name.endsWith(`_${signal.toUpperCase()}_ENDPOINT`)) return raw;
  url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/${signal}`;
  return url.href;
}

// As the packages chose: the signal's own variable wins, and a blank value
// counts as unset. The packages read these files whatever the endpoint's
// scheme.
function readCertificatePaths(
  read: EnvReader,
  signal: Signal,
): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const file of CERTIFICATE_FILES) {
    const [name, path] = otlpSetting(read, signal, file);
    // Untrimmed, as the packages take it.
    if (path !== undefined) paths[name] = read.env(name)!;
  }
  return paths;
}
