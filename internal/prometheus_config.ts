/**
 * Where `OTEL_METRICS_EXPORTER=prometheus` serves the metrics:
 * `OTEL_EXPORTER_PROMETHEUS_HOST` and `OTEL_EXPORTER_PROMETHEUS_PORT`, with
 * the specification's defaults. The exporter package reads neither, so dice
 * does. Prometheus scrapes the one address it was given: a value that
 * cannot be used stops the service (exit 2) rather than serving the
 * metrics where nobody scrapes them. Where the metrics are not served to
 * Prometheus, both are moot and not checked.
 *
 * @module
 */

import { ConfigError, type EnvReader, shown } from "./env.ts";
import { parseHost } from "./host.ts";
import type { SignalConfig } from "./otlp_config.ts";

/** Where the Prometheus exporter listens. */
export interface PrometheusConfig {
  /** `OTEL_EXPORTER_PROMETHEUS_HOST`: an IP address or host name. */
  host: string;
  /** `OTEL_EXPORTER_PROMETHEUS_PORT`: a TCP port from 1 to 65535. */
  port: number;
}

/** The specification's defaults: `localhost:9464`, path `/metrics`. */
export const PROMETHEUS_DEFAULTS: Readonly<PrometheusConfig> = Object.freeze({
  host: "localhost",
  port: 9464,
});

/**
 * Reads where the Prometheus exporter listens, when `metrics` names it.
 *
 * @throws {ConfigError} for a host or port it cannot listen on, or the
 * service's own port.
 */
export function readPrometheus(
  read: EnvReader,
  metrics: Pick<SignalConfig, "exporters">,
  servicePort: number,
): PrometheusConfig {
  if (!metrics.exporters.includes("prometheus")) return PROMETHEUS_DEFAULTS;
  const rawHost = read.get("OTEL_EXPORTER_PROMETHEUS_HOST");
  const host = rawHost === undefined
    ? PROMETHEUS_DEFAULTS.host
    : parseHost("OTEL_EXPORTER_PROMETHEUS_HOST", rawHost);
  const port = readPort(read.get("OTEL_EXPORTER_PROMETHEUS_PORT"));
  if (port === servicePort) {
    throw new ConfigError(
      `OTEL_EXPORTER_PROMETHEUS_PORT must differ from PORT, both ${port}`,
    );
  }
  return { host, port };
}

// No 0: the package would take it for 9464, and Prometheus could not know
// a port picked at random anyway.
function readPort(raw: string | undefined): number {
  if (raw === undefined) return PROMETHEUS_DEFAULTS.port;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (port >= 1 && port <= 65535) return port;
  throw new ConfigError(
    "OTEL_EXPORTER_PROMETHEUS_PORT must be an integer from 1 to 65535, " +
      `got ${shown(raw)}`,
  );
}

/**
 * For a server of several workers, such as `deno serve --parallel`: each
 * worker reads the same settings and would bind the same Prometheus port,
 * so that the second one fails, and each would only see its own share of
 * the requests anyway. Call it at start with the number of workers.
 *
 * @throws {ConfigError} when `metrics` names `prometheus` and `workers` > 1.
 */
export function refusePrometheusUnderWorkers(
  metrics: Pick<SignalConfig, "exporters">,
  workers: number,
): void {
  if (workers <= 1 || !metrics.exporters.includes("prometheus")) return;
  throw new ConfigError(
    `OTEL_METRICS_EXPORTER=prometheus cannot run in ${workers} workers: ` +
      "each would bind OTEL_EXPORTER_PROMETHEUS_PORT and see only its own " +
      "requests; run deno task start, or export the metrics with otlp",
  );
}
