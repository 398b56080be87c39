/**
 * Addresses to listen on, as `DICE_HOST` and `OTEL_EXPORTER_PROMETHEUS_HOST`
 * name them: an IPv4 or IPv6 address, or a host name, checked at start so
 * that a typo stops the service with one line instead of a listener
 * somewhere else; and the one line that says which flag allows an address
 * the permissions do not.
 *
 * @module
 */

import { ConfigError, shown } from "./env.ts";

// RFC 1123 host names: dot-separated labels of letters, digits and inner
// hyphens, 253 characters in all.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * `raw`, the value of `name`, as an address to listen on: an IPv4 address,
 * an IPv6 address with or without brackets (returned without, as
 * `Deno.serve` and `node:http` take it), or a host name.
 *
 * @throws {ConfigError} for anything else, such as a URL or a port.
 */
export function parseHost(name: string, raw: string): string {
  const bare = /^\[.*\]$/.test(raw) ? raw.slice(1, -1) : raw;
  if (bare.includes(":")) {
    // The URL parser knows IPv6's every spelling; no zone index ("%eth0").
    const url = URL.parse(`http://[${bare}]/`);
    if (url !== null) return url.hostname.slice(1, -1);
  } else if (DOTTED_QUAD.test(bare)) {
    const octets = DOTTED_QUAD.exec(bare)!.slice(1).map(Number);
    if (octets.every((octet) => octet <= 255)) return octets.join(".");
  } else if (
    bare === raw && raw.length <= 253 && !/^[\d.]+$/.test(raw) &&
    raw.split(".").every((label) => LABEL.test(label))
  ) {
    return raw.toLowerCase();
  }
  throw new ConfigError(
    `${name} must be an IP address or a host name, such as 127.0.0.1, ::1 ` +
      `or localhost, got ${shown(raw)}`,
  );
}

/** `host` as a URL and the net permission spell it: IPv6 in brackets. */
export function bracketed(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Says, when the permissions do not let the service listen on `host` and
 * `port`, which flag does: the line for `name`, or undefined when it may.
 */
export function listenDenied(
  name: string,
  host: string,
  port: number,
): string | undefined {
  const address = bracketed(host);
  const { state } = Deno.permissions.querySync({
    name: "net",
    host: `${address}:${port}`,
  });
  if (state === "granted") return undefined;
  // --allow-net replaces the permission set's list rather than adding to
  // it: deno.json is where an address is added for good.
  return `${name} ${host} is not in dice's network permissions; run ` +
    `deno run -P --allow-net=${address} main.ts, or add "${address}" to ` +
    "permissions.default.net in deno.json";
}
