/**
 * A real OTLP/HTTP receiver for the tests: Elastic's mockotlpserver, which
 * decodes OTLP protobuf and JSON as a collector does. It listens on a free
 * port of 127.0.0.1, prints `{"listening": url}` first, then one JSON line
 * per request it received, `{"signal": "request", "data": {path, headers}}`,
 * and one per request it decoded: `{"signal": "traces", "data": ...}`.
 *
 * It has a deno.json of its own so that its dependencies (among them an
 * older @opentelemetry/core) stay out of the service's module graph.
 *
 * @module
 */

import {
  MockOtlpServer,
  normalizeLogs,
  normalizeMetrics,
  normalizeTrace,
} from "@elastic/mockotlpserver";

function emit(signal: string, data: unknown): void {
  console.log(JSON.stringify({ signal, data }));
}

const server = new MockOtlpServer({
  services: ["http"],
  httpHostname: "127.0.0.1",
  httpPort: 0,
  logLevel: "warn",
  onTrace: (request: unknown) => emit("traces", normalizeTrace(request)),
  onMetrics: (request: unknown) => emit("metrics", normalizeMetrics(request)),
  onLogs: (request: unknown) => emit("logs", normalizeLogs(request)),
  onRequest: ({ path, headers }: { path: string; headers: unknown }) =>
    emit("request", { path, headers }),
});
await server.start();
console.log(JSON.stringify({ listening: server.httpUrl }));
