/**
 * HTTP instrumentation for `Deno.serve` and `fetch`: our counterpart of Go's
 * `otelhttp.NewHandler`, `otelhttp.WithRouteTag` and `otelhttp.NewTransport`,
 * written by hand because no OpenTelemetry package instruments `Deno.serve`,
 * and the `fetch` instrumentation for Node does not apply to Deno's fetch.
 *
 * It follows the stable HTTP semantic conventions: one SERVER span per
 * request, a child of the remote parent when the request carries W3C Trace
 * Context, named `{method} {route}`; the `http.server.request.duration`
 * histogram and the `http.server.active_requests` counter, whose attributes
 * are all of low cardinality (never the path, never a player name). And one
 * CLIENT span per `fetch`, whose context goes out in the request's headers,
 * with the `http.client.request.duration` histogram.
 *
 * @module
 */

import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Exception,
  type Histogram,
  type Meter,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  ERROR_TYPE_VALUE_OTHER,
  HTTP_REQUEST_METHOD_VALUE_CONNECT,
  HTTP_REQUEST_METHOD_VALUE_DELETE,
  HTTP_REQUEST_METHOD_VALUE_GET,
  HTTP_REQUEST_METHOD_VALUE_HEAD,
  HTTP_REQUEST_METHOD_VALUE_OPTIONS,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
  HTTP_REQUEST_METHOD_VALUE_PATCH,
  HTTP_REQUEST_METHOD_VALUE_POST,
  HTTP_REQUEST_METHOD_VALUE_PUT,
  HTTP_REQUEST_METHOD_VALUE_TRACE,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";
import { METRIC_HTTP_SERVER_ACTIVE_REQUESTS } from "@opentelemetry/semantic-conventions/incubating";

/** The instrumentation scope of the telemetry this module records. */
export const SCOPE_NAME = "dice/otel_http";

/** The bucket boundaries the HTTP conventions advise for request durations, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
]);

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  HTTP_REQUEST_METHOD_VALUE_CONNECT,
  HTTP_REQUEST_METHOD_VALUE_DELETE,
  HTTP_REQUEST_METHOD_VALUE_GET,
  HTTP_REQUEST_METHOD_VALUE_HEAD,
  HTTP_REQUEST_METHOD_VALUE_OPTIONS,
  HTTP_REQUEST_METHOD_VALUE_PATCH,
  HTTP_REQUEST_METHOD_VALUE_POST,
  HTTP_REQUEST_METHOD_VALUE_PUT,
  HTTP_REQUEST_METHOD_VALUE_TRACE,
]);

/** The method as the conventions record it, and as span names show it. */
function requestMethod(
  original: string,
): { method: string; spanMethod: string } {
  // Method names are case-sensitive: "get" is not GET, so it becomes _OTHER.
  return KNOWN_METHODS.has(original)
    ? { method: original, spanMethod: original }
    : { method: HTTP_REQUEST_METHOD_VALUE_OTHER, spanMethod: "HTTP" };
}

/** `server.address` and `server.port` of a URL, with the scheme's default port. */
function serverOf(url: URL): Attributes {
  return {
    [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    [ATTR_SERVER_PORT]: url.port
      ? Number(url.port)
      : url.protocol === "https:"
      ? 443
      : 80,
  };
}

/** A request-duration histogram in seconds, with the advised buckets. */
function newDurationHistogram(
  meter: Meter,
  name: string,
  description: string,
): Histogram {
  return meter.createHistogram(name, {
    description,
    unit: "s",
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
}

/** A handler that `Deno.serve` accepts. */
export type ServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

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
 */
export function newHandler(next: ServeHandler): ServeHandler {
  const tracer = trace.getTracer(SCOPE_NAME);
  const meter = metrics.getMeter(SCOPE_NAME);
  const requestDuration = newDurationHistogram(
    meter,
    METRIC_HTTP_SERVER_REQUEST_DURATION,
    "Duration of HTTP server requests.",
  );
  const activeRequests = meter.createUpDownCounter(
    METRIC_HTTP_SERVER_ACTIVE_REQUESTS,
    {
      description: "Number of active HTTP server requests.",
      unit: "{request}",
    },
  );

  return async function otelHandler(request, info) {
    const start = performance.now();
    const url = new URL(request.url);
    const { method, spanMethod } = requestMethod(request.method);
    const scheme = url.protocol.slice(0, -1);
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
    }, parent);
    const state: ServerRequest = { span, spanMethod };
    const ctx: Context = trace.setSpan(parent, span).setValue(
      SERVER_REQUEST,
      state,
    );

    activeRequests.add(1, activeAttributes);
    let response: Response;
    let errorType: string | undefined;
    try {
      response = await context.with(ctx, next, undefined, request, info);
    } catch (error) {
      errorType = errorTypeOf(error);
      span.recordException(error as Exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      response = new Response("500 internal server error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }

    const status = response.status;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // For a server, 4xx is the client's fault: only 5xx marks the span.
    if (status >= 500 && errorType === undefined) {
      errorType = String(status);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (errorType !== undefined) span.setAttribute(ATTR_ERROR_TYPE, errorType);
    span.end();

    const metricAttributes: Attributes = {
      ...activeAttributes,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
    };
    if (state.route !== undefined) {
      metricAttributes[ATTR_HTTP_ROUTE] = state.route;
    }
    if (errorType !== undefined) metricAttributes[ATTR_ERROR_TYPE] = errorType;
    requestDuration.record(
      (performance.now() - start) / 1000,
      metricAttributes,
    );
    activeRequests.add(-1, activeAttributes);
    return response;
  };
}

function serverSpanAttributes(
  request: Request,
  info: Deno.ServeHandlerInfo,
  url: URL,
  method: string,
  scheme: string,
): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: url.pathname,
    [ATTR_URL_SCHEME]: scheme,
    // Deno builds the URL's authority from Host (or :authority in HTTP/2).
    ...serverOf(url),
  };
  if (method !== request.method) {
    attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = request.method;
  }
  const userAgent = request.headers.get("user-agent");
  if (userAgent !== null) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  // The peer's address, not X-Forwarded-For: nothing in the request is trusted.
  const remote = info.remoteAddr;
  if (remote.transport === "tcp" || remote.transport === "udp") {
    attributes[ATTR_CLIENT_ADDRESS] = remote.hostname;
  }
  return attributes;
}

function errorTypeOf(error: unknown): string {
  if (error instanceof Error) return error.constructor.name || error.name;
  return ERROR_TYPE_VALUE_OTHER;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Tags the request that `handler` serves with its route pattern: sets
 * `http.route` on the server span, renames the span `{method} {route}`, and
 * gives the route to the request-duration metric.
 *
 * Outside {@linkcode newHandler} it only calls `handler`.
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

/** A function with the signature of `fetch`. */
export type Fetch = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

const headersSetter: TextMapSetter<Headers> = {
  set: (headers, key, value) => headers.set(key, value),
};

// Query parameters that carry credentials, which url.full must not.
const SENSITIVE_QUERY_KEYS: ReadonlySet<string> = new Set([
  "AWSAccessKeyId",
  "Signature",
  "sig",
  "X-Goog-Signature",
]);

/**
 * The URL as `url.full` may show it: credentials and the values of
 * signature-like query parameters replaced by `REDACTED`.
 */
export function redactedUrl(url: URL): string {
  const redacted = new URL(url);
  if (redacted.username || redacted.password) {
    redacted.username = "REDACTED";
    redacted.password = "REDACTED";
  }
  for (const key of new Set(redacted.searchParams.keys())) {
    if (SENSITIVE_QUERY_KEYS.has(key)) {
      redacted.searchParams.set(key, "REDACTED");
    }
  }
  return redacted.href;
}

/**
 * Wraps `fetchImpl` (the global `fetch` by default) so that every call gets
 * its own CLIENT span, a child of the active span, sends the active trace
 * context and baggage in its headers through the global propagator, and is
 * counted in `http.client.request.duration`. For a client, 4xx, 5xx and
 * network failures are errors. The span ends when the response headers
 * arrive, or when the call fails.
 *
 * Tracer and meter come from the global providers at the time of the call,
 * so call it after the SDK is set up.
 */
export function newFetch(
  fetchImpl: (request: Request) => Promise<Response> = globalThis.fetch,
): Fetch {
  const tracer = trace.getTracer(SCOPE_NAME);
  const meter = metrics.getMeter(SCOPE_NAME);
  const requestDuration = newDurationHistogram(
    meter,
    METRIC_HTTP_CLIENT_REQUEST_DURATION,
    "Duration of HTTP client requests.",
  );

  return async function otelFetch(input, init) {
    const start = performance.now();
    const request = new Request(input, init);
    const url = new URL(request.url);
    const { method, spanMethod } = requestMethod(request.method);
    const metricAttributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      ...serverOf(url),
    };
    const attributes: Attributes = {
      ...metricAttributes,
      [ATTR_URL_FULL]: redactedUrl(url),
    };
    if (method !== request.method) {
      attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = request.method;
    }
    const span = tracer.startSpan(spanMethod, {
      kind: SpanKind.CLIENT,
      attributes,
    });
    const ctx = trace.setSpan(context.active(), span);
    propagation.inject(ctx, request.headers, headersSetter);

    let errorType: string | undefined;
    try {
      const response = await context.with(ctx, fetchImpl, undefined, request);
      const status = response.status;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      metricAttributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
      // For a client, the server refusing the request is an error too.
      if (status >= 400) {
        errorType = String(status);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return response;
    } catch (error) {
      errorType = errorTypeOf(error);
      span.recordException(error as Exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      throw error;
    } finally {
      if (errorType !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        metricAttributes[ATTR_ERROR_TYPE] = errorType;
      }
      span.end();
      requestDuration.record(
        (performance.now() - start) / 1000,
        metricAttributes,
      );
    }
  };
}
