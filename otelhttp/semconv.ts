/**
 * What the server and the client instrumentation share: the instrumentation
 * scope, the HTTP semantic conventions' method rules, server attributes, the
 * request-duration histogram with its advised buckets and the body-size
 * histograms.
 *
 * @module
 */

import type { Attributes, Histogram, Meter } from "@opentelemetry/api";
import {
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
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
} from "@opentelemetry/semantic-conventions";
// QUERY is a known method by default, but its enum value is still in
// development: only the incubating entry point exports it.
import { HTTP_REQUEST_METHOD_VALUE_QUERY } from "@opentelemetry/semantic-conventions/incubating";
import denoJson from "../deno.json" with { type: "json" };

/** The instrumentation scope of the telemetry that `otelhttp` records. */
export const OTELHTTP_SCOPE_NAME = "dice/otelhttp";

/** The version of `otelhttp`, which is released with the service: deno.json's. */
export const OTELHTTP_SCOPE_VERSION: string = denoJson.version;

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

/**
 * The methods the HTTP conventions know by default: RFC 9110's, PATCH and
 * QUERY. `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` replaces the list.
 */
export const DEFAULT_KNOWN_METHODS: readonly string[] = Object.freeze([
  HTTP_REQUEST_METHOD_VALUE_CONNECT,
  HTTP_REQUEST_METHOD_VALUE_DELETE,
  HTTP_REQUEST_METHOD_VALUE_GET,
  HTTP_REQUEST_METHOD_VALUE_HEAD,
  HTTP_REQUEST_METHOD_VALUE_OPTIONS,
  HTTP_REQUEST_METHOD_VALUE_PATCH,
  HTTP_REQUEST_METHOD_VALUE_POST,
  HTTP_REQUEST_METHOD_VALUE_PUT,
  HTTP_REQUEST_METHOD_VALUE_QUERY,
  HTTP_REQUEST_METHOD_VALUE_TRACE,
]);

/** The known methods as {@linkcode requestMethod} looks them up. */
export function knownMethodSet(
  methods: readonly string[] = DEFAULT_KNOWN_METHODS,
): ReadonlySet<string> {
  return new Set(methods);
}

const DEFAULT_KNOWN_METHOD_SET = knownMethodSet();

/** The method as the conventions record it, and as span names show it. */
export function requestMethod(
  original: string,
  known: ReadonlySet<string> = DEFAULT_KNOWN_METHOD_SET,
): { method: string; spanMethod: string } {
  // Method names are case-sensitive: "get" is not GET, so it becomes _OTHER.
  return known.has(original)
    ? { method: original, spanMethod: original }
    : { method: HTTP_REQUEST_METHOD_VALUE_OTHER, spanMethod: "HTTP" };
}

/**
 * `server.address` and `server.port` of the URL a client calls: the port is
 * the scheme's default when the URL names none.
 */
export function serverOf(url: URL): Attributes {
  return {
    [ATTR_SERVER_ADDRESS]: hostOf(url),
    [ATTR_SERVER_PORT]: url.port
      ? Number(url.port)
      : url.protocol === "https:"
      ? 443
      : 80,
  };
}

/**
 * `server.address` and `server.port` as a server learns them from the Host
 * header (or :authority): no port when it names none, or the scheme's
 * default, which the URL parser drops as Go's otelhttp does.
 */
export function requestedServerOf(url: URL): Attributes {
  const attributes: Attributes = { [ATTR_SERVER_ADDRESS]: hostOf(url) };
  if (url.port) attributes[ATTR_SERVER_PORT] = Number(url.port);
  return attributes;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** A request-duration histogram in seconds, with the advised buckets. */
export function newDurationHistogram(
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

/** `error.type` for a thrown value: its class name, else `_OTHER`. */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) return error.constructor.name || error.name;
  return ERROR_TYPE_VALUE_OTHER;
}

// Query parameters that carry credentials, whose values no attribute shows.
const SENSITIVE_QUERY_KEYS: ReadonlySet<string> = new Set([
  "AWSAccessKeyId",
  "Signature",
  "sig",
  "X-Amz-Credential",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
  "X-Goog-Signature",
]);

/**
 * A query string (with or without its `?`) as `url.query` and `url.full` may
 * show it: the values of signature-like parameters replaced by `REDACTED`,
 * everything else as it was sent.
 */
export function redactedQuery(query: string): string {
  const mark = query.startsWith("?") ? "?" : "";
  return mark + query.slice(mark.length).split("&").map((pair) => {
    const equals = pair.indexOf("=");
    if (equals < 0) return pair;
    const key = pair.slice(0, equals);
    return SENSITIVE_QUERY_KEYS.has(decodedKey(key)) ? `${key}=REDACTED` : pair;
  }).join("&");
}

function decodedKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll("+", " "));
  } catch {
    return key;
  }
}
