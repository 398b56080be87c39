/**
 * Where dice is stricter than the OTLP exporter packages. Each check stops
 * the service at start, with one line, for a value the packages would take
 * and then fail on every export, or use somewhere nobody asked for:
 *
 * - {@linkcode checkEndpoint}: the packages fall back to the default URL
 *   for one they cannot parse, sending telemetry elsewhere.
 * - {@linkcode checkHeaders}: the packages skip a malformed entry with a
 *   debug message, or send a value that `fetch` then refuses on every
 *   export; and a header that HTTP itself sets ({@linkcode FRAMING_HEADERS})
 *   breaks the framing or the routing of every request.
 *
 * @module
 */

import { ConfigError, shown, withoutCredentials } from "./env.ts";
import { HTTP_TOKEN } from "./http.ts";

/** Where the OTLP exporters send when no endpoint is set. */
export const DEFAULT_OTLP_ENDPOINT = "http://localhost:4318";

/**
 * `raw`, the value of `name`, as a URL the OTLP exporters can use: http or
 * https, with a host.
 *
 * @throws {ConfigError} for anything else.
 */
export function checkEndpoint(name: string, raw: string): URL {
  const url = URL.parse(raw);
  if (url !== null && /^https?:$/.test(url.protocol) && url.hostname) {
    return url;
  }
  throw new ConfigError(
    `${name} must be an http:// or https:// URL with a host, such as ` +
      `${DEFAULT_OTLP_ENDPOINT}, got ${shown(withoutCredentials(raw))}`,
  );
}

/** The longest header list accepted, in characters. */
export const MAX_HEADERS_LENGTH = 8192;

// What fetch sends as a header value: Latin-1 bytes, no controls but tab.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The headers that HTTP itself sets, by the length and the connection of
 * each request: a `content-length=5` cuts every body short, `host=evil`
 * routes every export elsewhere behind a proxy, `transfer-encoding` and
 * `connection` break the framing. Refused at start, whatever their case.
 */
export const FRAMING_HEADERS = [
  "content-length",
  "transfer-encoding",
  "host",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
] as const;

/**
 * Checks `raw`, the value of `name`, as the OTLP exporters will read it: a
 * comma-separated list of percent-encoded `name=value` pairs.
 *
 * @throws {ConfigError} when an entry would make every export fail.
 */
export function checkHeaders(name: string, raw: string | undefined): void {
  const framing = raw === undefined ? undefined : framingHeader(raw);
  if (framing !== undefined) {
    throw new ConfigError(
      `${name} must not set ${framing}: HTTP sets it for each request, and ` +
        "a value given here would break every export; remove it (dice " +
        `refuses ${FRAMING_HEADERS.join(", ")})`,
    );
  }
  const problem = raw === undefined ? undefined : headersProblem(raw);
  if (problem === undefined) return;
  throw new ConfigError(
    `${name} must be a comma-separated list of name=value pairs, with ` +
      "HTTP token names, values without control characters (percent-" +
      `encoded where needed) and at most ${MAX_HEADERS_LENGTH} characters ` +
      `in all; ${problem}`,
  );
}

/**
 * The entries of a header list, percent-decoded and trimmed, as the OTLP
 * packages read them; entries without "=" are skipped (checkHeaders has
 * refused them already). A later entry of the same name wins.
 */
export function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of raw?.split(",") ?? []) {
    const equals = entry.indexOf("=");
    if (equals < 0) continue;
    const key = percentDecoded(entry.slice(0, equals).trim());
    const value = percentDecoded(entry.slice(equals + 1).trim());
    if (key && value !== undefined) headers[key.toLowerCase()] = value;
  }
  return headers;
}

// The first header of the list that HTTP itself sets, in lower case.
function framingHeader(raw: string): string | undefined {
  const names = Object.keys(parseHeaders(raw));
  return names.find((key) =>
    (FRAMING_HEADERS as readonly string[]).includes(key)
  );
}

function headersProblem(raw: string): string | undefined {
  if (raw.length > MAX_HEADERS_LENGTH) return `got ${raw.length} characters`;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    // Values may be secrets: a problem is said without them.
    const equals = entry.indexOf("=");
    if (equals < 0) return 'an entry has no "="';
    // The packages percent-decode names and values before they send them.
    const key = percentDecoded(entry.slice(0, equals).trim());
    if (key === undefined || !HTTP_TOKEN.test(key)) {
      return `a name is not a token`;
    }
    const value = percentDecoded(entry.slice(equals + 1).trim());
    if (value === undefined || !HEADER_VALUE.test(value)) {
      return `the value of ${key} is not usable`;
    }
  }
  return undefined;
}

function percentDecoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
