/**
 * `OTEL_METRICS_EXPORTER=prometheus`: the official
 * `@opentelemetry/exporter-prometheus`, a pull reader that serves the
 * metrics at `/metrics` for Prometheus to scrape, on the host and port dice
 * read (`internal/prometheus_config.ts`).
 *
 * The package starts its `node:http` server from its constructor and only
 * logs a failure to listen. dice starts it itself instead and waits, so
 * that a port in use, or an address the permissions forbid, stops the
 * start with one line. Measured on Deno 2.9.6: the server binds, a bind
 * error arrives as the package's rejected promise (`EADDRINUSE`), and the
 * meter provider's shutdown closes it at once, even with a scraper's
 * keep-alive connection open.
 *
 * @module
 */

import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { messageOf } from "../internal/errors.ts";
import { bracketed, listenDenied } from "../internal/host.ts";
import type { PrometheusConfig } from "../internal/prometheus_config.ts";

/**
 * A Prometheus reader, its server listening on `config`'s host and port.
 *
 * @throws {Error} in one line when it cannot listen there.
 */
export async function newPrometheusReader(
  config: PrometheusConfig,
): Promise<PrometheusExporter> {
  const { host, port } = config;
  const denied = listenDenied("OTEL_EXPORTER_PROMETHEUS_HOST", host, port);
  if (denied !== undefined) throw new Error(denied);
  const reader = new PrometheusExporter({
    host,
    port,
    preventServerStart: true,
  });
  try {
    await reader.startServer();
  } catch (error) {
    throw new Error(
      (error as { code?: unknown }).code === "EADDRINUSE"
        ? `OTEL_EXPORTER_PROMETHEUS_PORT ${port} is already in use on ` +
          `${host}; set OTEL_EXPORTER_PROMETHEUS_PORT to a free port`
        : `cannot serve Prometheus metrics on ${bracketed(host)}:${port}: ` +
          messageOf(error),
    );
  }
  return reader;
}
