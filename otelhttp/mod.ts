/**
 * HTTP instrumentation for Deno: our counterpart of Go's `otelhttp`.
 *
 * {@linkcode newHandler} wraps a `Deno.serve` handler so that every request
 * gets a SERVER span and the HTTP server metrics; {@linkcode withRouteTag}
 * gives it the route pattern; {@linkcode newFetch} wraps `fetch` so that every
 * call gets a CLIENT span and sends the trace context on.
 *
 * @example The walkthrough's server, instrumented, as `main.ts` uses it
 * ```ts
 * import * as otelhttp from "./mod.ts";
 *
 * const rolldice = otelhttp.withRouteTag(
 *   "/rolldice/{player}",
 *   () => new Response("4\n"),
 * );
 * const handler: otelhttp.ServeHandler = otelhttp.newHandler(() => rolldice());
 * // Deno.serve({ port: 8080 }, handler) would serve it.
 * ```
 *
 * @module
 */

export * from "./fetch.ts";
export * from "./handler.ts";
export {
  DEFAULT_KNOWN_METHODS,
  DURATION_BUCKETS,
  OTELHTTP_SCOPE_NAME,
  OTELHTTP_SCOPE_VERSION,
} from "./semconv.ts";
export { withBodySize } from "./body_size.ts";
