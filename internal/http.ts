/**
 * What the service's HTTP code shares: the plain-text answer's headers, and
 * the grammar of tokens and hosts.
 *
 * @module
 */

import { withBodySize } from "../otelhttp/body_size.ts";

/** The headers of a plain-text response in UTF-8. */
export const TEXT_PLAIN_HEADERS: Readonly<Record<string, string>> = Object
  .freeze({ "content-type": "text/plain; charset=utf-8" });

/**
 * A plain-text answer whose length the HTTP instrumentation is told, so
 * that `http.server.response.body.size` costs it no copy of the body.
 */
export function textResponse(text: string, status = 200): Response {
  const bytes = ASCII.test(text) ? text.length : UTF8.encode(text).byteLength;
  return withBodySize(
    new Response(text, { status, headers: TEXT_PLAIN_HEADERS }),
    bytes,
  );
}

const ASCII = /^[^\u0080-\uffff]*$/;
const UTF8 = new TextEncoder();

/** RFC 9110's token: a header name, a baggage key. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// RFC 3986's host and port. Deno pastes the Host header in front of the
// path unchecked, so "h/rolldice" would move a request to another route.
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(:\d*)?$/;

/**
 * The request's URL, or null when its Host header is malformed: Deno builds
 * `request.url` from that header unchecked, so a malformed one would not
 * parse, or would move the request to another path.
 */
export function requestURL(request: Request): URL | null {
  return hasValidHost(request) ? URL.parse(request.url) : null;
}

/**
 * Whether the request's Host header, from which Deno builds `request.url`,
 * is a host and port as RFC 3986 spells them; true when there is none.
 */
export function hasValidHost(request: Request): boolean {
  const host = request.headers.get("host");
  return host === null || HOST.test(host);
}
