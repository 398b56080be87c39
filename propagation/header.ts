/**
 * What the W3C propagators share: how one header is read from a carrier.
 *
 * @module
 */

import type { TextMapGetter } from "@opentelemetry/api";

/**
 * The value of header `key` in `carrier`. Multiple fields of one header are
 * combined as RFC 9110 says: with commas.
 */
export function headerValue(
  getter: TextMapGetter,
  carrier: unknown,
  key: string,
): string | undefined {
  const value = getter.get(carrier, key);
  return Array.isArray(value) ? value.join(",") : value;
}
