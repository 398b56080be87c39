/**
 * The client side of the HTTP instrumentation: our counterpart of Go's
 * `otelhttp.NewTransport`, written by hand because the `fetch`
 * instrumentation for Node does not apply to Deno's `fetch`. One CLIENT span
 * per call, whose context goes out in the request's headers, and the
 * `http.client.request.duration` histogram.
 *
 * @module
 */

import {
  type Attributes,
  context,
  type Exception,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_FULL,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";
import { hrTime } from "@opentelemetry/core";
import { messageOf } from "../internal/errors.ts";
import {
  errorTypeOf,
  newDurationHistogram,
  OTELHTTP_SCOPE_NAME,
  OTELHTTP_SCOPE_VERSION,
  redactedQuery,
  requestMethod,
  serverOf,
} from "./semconv.ts";

/** A function with the signature of `fetch`. */
export type Fetch = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

const headersSetter: TextMapSetter<Headers> = {
  set: (headers, key, value) => headers.set(key, value),
};

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
  if (redacted.search) redacted.search = redactedQuery(redacted.search);
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
 *
 * @example Call another service with the trace context in the headers
 * ```ts
 * import assert from "node:assert/strict";
 * import { newFetch } from "./mod.ts";
 *
 * // A stand-in for the network, which shows what would be sent.
 * function backend(request: Request): Promise<Response> {
 *   return Promise.resolve(new Response(request.url));
 * }
 * const otelFetch = newFetch(backend);
 * const response = await otelFetch("http://backend.test/rolldice");
 * assert.equal(await response.text(), "http://backend.test/rolldice");
 * ```
 */
export function newFetch(
  fetchImpl: (request: Request) => Promise<Response> = globalThis.fetch,
): Fetch {
  const tracer = trace.getTracer(OTELHTTP_SCOPE_NAME, OTELHTTP_SCOPE_VERSION);
  const meter = metrics.getMeter(OTELHTTP_SCOPE_NAME, OTELHTTP_SCOPE_VERSION);
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
    // Both ends from the one monotonic clock, as the server span's.
    const span = tracer.startSpan(spanMethod, {
      kind: SpanKind.CLIENT,
      attributes,
      startTime: hrTime(start),
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
      span.recordException(error as Exception, hrTime());
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      throw error;
    } finally {
      if (errorType !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        metricAttributes[ATTR_ERROR_TYPE] = errorType;
      }
      const end = performance.now();
      span.end(hrTime(end));
      requestDuration.record((end - start) / 1000, metricAttributes);
    }
  };
}
