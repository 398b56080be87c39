/**
 * The checks on the OpenTelemetry API's global registration. The API
 * refuses to replace a global that is already set, and says so only
 * through diag; Deno's built-in telemetry (`OTEL_DENO=true`) is the usual
 * cause, and a service whose telemetry silently goes elsewhere is worse
 * than one that does not start.
 *
 * @module
 */

import { context, logs, metrics, propagation, trace } from "@opentelemetry/api";

const GLOBALS = new Map<unknown, string>([
  [context, "context manager"],
  [propagation, "propagator"],
  [metrics, "meter provider"],
  [trace, "tracer provider"],
  [logs, "logger provider"],
]);

/**
 * Checks that `api.setGlobal…` returned true, and returns the undo, to be
 * deferred so that the global goes once the providers have flushed, as Go's
 * `shutdownFuncs` run in order.
 *
 * @throws {Error} naming the global when another SDK already owns it.
 */
export function registered(
  api: { disable(): void },
  ok: boolean,
): () => void {
  if (!ok) {
    throw new Error(
      `cannot register the OpenTelemetry ${GLOBALS.get(api)}: another SDK ` +
        "already owns the global API (Deno's built-in telemetry does when " +
        "OTEL_DENO=true; unset it)",
    );
  }
  return () => api.disable();
}
