/**
 * The server side of the HTTP instrumentation: our counterpart of Go's
 * `otelhttp.NewHandler` and `otelhttp.WithRouteTag`, written by hand because
 * no OpenTelemetry package instruments `Deno.serve`.
 *
 * It follows the HTTP semantic conventions: one SERVER span per request, a
 * child of the remote parent when the request carries W3C Trace Context,
 * named `{method} {route}`, and the `http.server.request.duration`
 * histogram, all stable; the `http.server.request.body.size` and
 * `http.server.response.body.size` histograms, which Go's otelhttp records
 * too, and the `http.server.active_requests` counter, all three still in
 * development (opt-in) in the conventions. Metric attributes are all of low
 * cardinality (never the path, never a player name).
 *
 * @module
 */

import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Exception,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";
import {
  METRIC_HTTP_SERVER_ACTIVE_REQUESTS,
  METRIC_HTTP_SERVER_REQUEST_BODY_SIZE,
  METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE,
} from "@opentelemetry/semantic-conventions/incubating";
import { hrTime } from "@opentelemetry/core";
import { messageOf } from "../internal/errors.ts";
import { requestURL, textResponse } from "../internal/http.ts";
import { countRequestBody, countResponseBody } from "./body_size.ts";
import {
  errorTypeOf,
  knownMethodSet,
  newDurationHistogram,
  OTELHTTP_SCOPE_NAME,
  OTELHTTP_SCOPE_VERSION,
  redactedQuery,
  requestedServerOf,
  requestMethod,
} from "./semconv.ts";

/** A handler that `Deno.serve` accepts. */
export type ServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

/** How {@linkcode newHandler} records; every field has a default. */
export interface HandlerOptions {
  /**
   * The methods recorded as sent; any other becomes `_OTHER`, and `HTTP` in
   * the span name. `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, as the
   * service's configuration reads it.
   *
   * @default {DEFAULT_KNOWN_METHODS} RFC 9110's methods, PATCH and QUERY
   */
  knownMethods?: readonly string[];
}

/** What {@linkcode withRouteTag} tells the middleware about the request it serves. */
interface ServerRequest {
  readonly span: Span;
  /** The method as it appears in span names: `HTTP` stands for `_OTHER`. */
  readonly spanMethod: string;
  route?: string;
}

const SERVER_REQUEST = createContextKey("dice server request");

const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * Wraps `next` so that every request gets a SERVER span and is counted in
 * the HTTP server metrics. A handler that throws is answered with 500 and
 * recorded on the span.
 *
 * Tracer and meter come from the global providers at the time of the call,
 * so call it after the SDK is set up.
 *
 * @example Serve the dice route with a SERVER span per request
 * ```ts
 * import assert from "node:assert/strict";
 * import { newHandler, withRouteTag } from "./mod.ts";
 *
 * const rolldice = withRouteTag("/rolldice/{player}", () => new Response("4\n"));
 * const handler = newHandler(() => rolldice());
 * // Deno.serve({ port: 8080 }, handler) serves it; here, one request by hand:
 * const response = await handler(
 *   new Request("http://localhost:8080/rolldice/Alice"),
 *   {
 *     remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
 *     completed: Promise.resolve(),
 *   },
 * );
 * assert.equal(response.status, 200);
 * ```
 */
export function newHandler(
  next: ServeHandler,
  options: HandlerOptions = {},
): ServeHandler {
  const knownMethods = knownMethodSet(options.knownMethods);
  const tracer = trace.getTracer(OTELHTTP_SCOPE_NAME, OTELHTTP_SCOPE_VERSION);
  const meter = metrics.getMeter(OTELHTTP_SCOPE_NAME, OTELHTTP_SCOPE_VERSION);
  const requestDuration = newDurationHistogram(
    meter,
    METRIC_HTTP_SERVER_REQUEST_DURATION,
    "Duration of HTTP server requests.",
  );
  const requestBodySize = meter.createHistogram(
    METRIC_HTTP_SERVER_REQUEST_BODY_SIZE,
    { description: "Size of HTTP server request bodies.", unit: "By" },
  );
  const responseBodySize = meter.createHistogram(
    METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE,
    { description: "Size of HTTP server response bodies.", unit: "By" },
  );
  const activeRequests = meter.createUpDownCounter(
    METRIC_HTTP_SERVER_ACTIVE_REQUESTS,
    {
      description: "Number of active HTTP server requests.",
      unit: "{request}",
    },
  );

  return async function otelHandler(request, info) {
    // Both ends of the span are given, from the one monotonic clock: the
    // SDK would take the start from Date.now(), in whole milliseconds, and
    // a child could then start after its parent had ended.
    const start = performance.now();
    // Deno builds the URL from the Host header, which a client may send
    // malformed ("a b", "x:99999", "h/rolldice"): its attributes are then
    // taken from the request line alone. Answering it is the router's job.
    const url = requestURL(request);
    const { method, spanMethod } = requestMethod(request.method, knownMethods);
    // The client names the scheme too (an absolute-form target, or :scheme
    // in HTTP/2): only the two that HTTP knows reach an attribute.
    const scheme = request.url.startsWith("https:") ? "https" : "http";
    const activeAttributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_URL_SCHEME]: scheme,
    };
    const parent = propagation.extract(
      ROOT_CONTEXT,
      request.headers,
      headersGetter,
    );
    const span = tracer.startSpan(spanMethod, {
      kind: SpanKind.SERVER,
      attributes: serverSpanAttributes(request, info, url, method, scheme),
      startTime: hrTime(start),
    }, parent);
    const state: ServerRequest = { span, spanMethod };
    const ctx = trace.setSpan(parent, span).setValue(SERVER_REQUEST, state);

    activeRequests.add(1, activeAttributes);
    const counted = countRequestBody(request);
    const served = await serve(ctx, next, counted.request, info);
    const { response } = served;
    const end = performance.now();
    const errorType = endServerSpan(
      span,
      response.status,
      served.errorType,
      end,
    );

    const metricAttributes: Attributes = {
      ...activeAttributes,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.status,
    };
    if (state.route !== undefined) {
      metricAttributes[ATTR_HTTP_ROUTE] = state.route;
    }
    if (errorType !== undefined) metricAttributes[ATTR_ERROR_TYPE] = errorType;
    requestDuration.record((end - start) / 1000, metricAttributes);
    requestBodySize.record(counted.bytesRead(), metricAttributes);
    countResponseBody(
      response,
      (bytes) => responseBodySize.record(bytes, metricAttributes),
    );
    activeRequests.add(-1, activeAttributes);
    return response;
  };
}

// Calls `next` inside `ctx`; a handler that throws is answered with 500 and
// recorded on the span.
async function serve(
  ctx: Context,
  next: ServeHandler,
  request: Request,
  info: Deno.ServeHandlerInfo,
): Promise<{ response: Response; errorType?: string }> {
  try {
    return {
      response: await context.with(ctx, next, undefined, request, info),
    };
  } catch (error) {
    const span = trace.getSpan(ctx)!;
    span.recordException(error as Exception, hrTime());
    span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
    const response = textResponse("500 internal server error\n", 500);
    return { response, errorType: errorTypeOf(error) };
  }
}

// Ends the span and returns its error.type, for the metrics too. For a
// server, 4xx is the client's fault: only 5xx marks the span.
function endServerSpan(
  span: Span,
  status: number,
  thrown: string | undefined,
  end: number,
): string | undefined {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  let errorType = thrown;
  if (status >= 500 && errorType === undefined) {
    errorType = String(status);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  if (errorType !== undefined) span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.end(hrTime(end));
  return errorType;
}

function serverSpanAttributes(
  request: Request,
  info: Deno.ServeHandlerInfo,
  url: URL | null,
  method: string,
  scheme: string,
): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: url?.pathname ?? pathOf(request),
    [ATTR_URL_SCHEME]: scheme,
    ...(url?.search &&
      { [ATTR_URL_QUERY]: redactedQuery(url.search.slice(1)) }),
    // Deno builds the URL's authority from Host (or :authority in HTTP/2);
    // a malformed one names no server.
    ...(url && requestedServerOf(url)),
  };
  if (method !== request.method) {
    attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = request.method;
  }
  const userAgent = request.headers.get("user-agent");
  if (userAgent !== null) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  // The peer's address, not X-Forwarded-For: nothing in the request is trusted.
  const remote = info.remoteAddr;
  if (remote.transport === "tcp" || remote.transport === "udp") {
    const address = unmapped(remote.hostname);
    attributes[ATTR_CLIENT_ADDRESS] = address;
    attributes[ATTR_NETWORK_PEER_ADDRESS] = address;
    attributes[ATTR_NETWORK_PEER_PORT] = remote.port;
  }
  return attributes;
}

// A socket listening on both families (`::`) sees an IPv4 client as
// `::ffff:127.0.0.1`; Go's otelhttp, like any reader, shows `127.0.0.1`.
function unmapped(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".")
    ? address.slice(7)
    : address;
}

// The path of a URL that does not parse: what follows the Host header that
// Deno put in front of it, up to the query.
function pathOf(request: Request): string {
  const { url } = request;
  const authority = `://${request.headers.get("host") ?? ""}`;
  const at = url.indexOf(authority);
  const rest = at >= 0
    ? url.slice(at + authority.length)
    : url.replace(/^[^:]*:\/\/[^/?#]*/, "");
  return rest.split(/[?#]/)[0] || "/";
}

/**
 * Tags the request that `handler` serves with its route pattern: sets
 * `http.route` on the server span, renames the span `{method} {route}`, and
 * gives the route to the request-duration metric.
 *
 * Outside {@linkcode newHandler} it only calls `handler`.
 *
 * Go's otelhttp deprecated `WithRouteTag` in v0.64.0 and removed it in
 * v0.65.0: it takes the route from the pattern that Go's `http.ServeMux`
 * matched (`Request.Pattern`), and contrib's dice example no longer tags
 * routes. `Deno.serve` has no router that could tell it, so dice still tags
 * each route where it registers it.
 *
 * @example Tag a handler with its pattern, as the walkthrough's handleFunc does
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRouteTag } from "./mod.ts";
 *
 * const tagged = withRouteTag("/rolldice/{player}", () => new Response("4\n"));
 * // Outside newHandler() it only calls the handler.
 * assert.equal((await tagged()).status, 200);
 * ```
 */
export function withRouteTag<Args extends unknown[]>(
  route: string,
  handler: (...args: Args) => Response | Promise<Response>,
): (...args: Args) => Response | Promise<Response> {
  return function routeTagged(...args) {
    const state = context.active().getValue(SERVER_REQUEST) as
      | ServerRequest
      | undefined;
    if (state) {
      state.route = route;
      state.span.setAttribute(ATTR_HTTP_ROUTE, route);
      state.span.updateName(`${state.spanMethod} ${route}`);
    }
    return handler(...args);
  };
}
