/**
 * The W3C Baggage propagator, standing in for `@opentelemetry/core`'s
 * `W3CBaggagePropagator` where that one departs from the specification.
 *
 * `baggage` is parsed by the W3C Baggage grammar, where the SDK's parser is
 * looser: empty values are kept, keys must be tokens, values must be baggage
 * octets, a percent-encoded sequence that is not UTF-8 decodes to U+FFFD
 * instead of dropping the member, and whole members are dropped beyond 180
 * members or 8192 bytes. `baggage_test.ts` holds each case. Injection and
 * the API's `Baggage` are the SDK's.
 *
 * @module
 */

import {
  type Baggage,
  type BaggageEntry,
  baggageEntryMetadataFromString,
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";
import { HTTP_TOKEN as TOKEN } from "../internal/http.ts";
import { headerValue } from "./header.ts";

const BAGGAGE = "baggage";

const MAX_BAGGAGE_MEMBERS = 180;
const MAX_BAGGAGE_BYTES = 8192;
const BAGGAGE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const OWS = /^[ \t]+|[ \t]+$/g;

/** Propagates `baggage` by the W3C Baggage specification. */
export class W3CBaggagePropagator implements TextMapPropagator {
  /** Writes the context's baggage, whole members only, within the limits. */
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const baggage = propagation.getBaggage(context);
    if (!baggage || isTracingSuppressed(context)) return;
    const header = serializeBaggage(baggage);
    if (header) setter.set(carrier, BAGGAGE, header);
  }

  /** Reads `baggage` into the context; invalid members are skipped. */
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = headerValue(getter, carrier, BAGGAGE);
    const entries = header === undefined ? [] : parseBaggage(header);
    if (entries.length === 0) return context;
    return propagation.setBaggage(
      context,
      propagation.createBaggage(Object.fromEntries(entries)),
    );
  }

  /** The header this propagator reads and writes. */
  fields(): string[] {
    return [BAGGAGE];
  }
}

/**
 * Parses a `baggage` value into its entries, in order, skipping members
 * that break the grammar and dropping whole members past 180 members or
 * 8192 bytes. Of duplicate keys, the last wins, as in the SDK.
 */
export function parseBaggage(header: string): Array<[string, BaggageEntry]> {
  const entries: Array<[string, BaggageEntry]> = [];
  let bytes = 0;
  for (const field of header.split(",")) {
    const member = field.replace(OWS, "");
    if (member === "") continue;
    const entry = parseBaggageMember(member);
    if (!entry) continue;
    bytes += member.length + (entries.length > 0 ? 1 : 0);
    if (entries.length >= MAX_BAGGAGE_MEMBERS || bytes > MAX_BAGGAGE_BYTES) {
      break;
    }
    entries.push(entry);
  }
  return entries;
}

function parseBaggageMember(
  member: string,
): [string, BaggageEntry] | undefined {
  const [pair, ...properties] = member.split(";");
  const equals = pair.indexOf("=");
  if (equals < 0) return undefined;
  const key = pair.slice(0, equals).replace(OWS, "");
  const value = pair.slice(equals + 1).replace(OWS, "");
  if (!TOKEN.test(key) || !BAGGAGE_OCTETS.test(value)) return undefined;
  if (!properties.every(isProperty)) return undefined;
  const entry: BaggageEntry = { value: percentDecode(value) };
  if (properties.length > 0) {
    entry.metadata = baggageEntryMetadataFromString(
      properties.map((property) => property.replace(OWS, "")).join(";"),
    );
  }
  return [key, entry];
}

function isProperty(property: string): boolean {
  const equals = property.indexOf("=");
  if (equals < 0) return TOKEN.test(property.replace(OWS, ""));
  return TOKEN.test(property.slice(0, equals).replace(OWS, "")) &&
    BAGGAGE_OCTETS.test(property.slice(equals + 1).replace(OWS, ""));
}

const decoder = new TextDecoder(); // replaces bytes that are not UTF-8 with U+FFFD

function percentDecode(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i)); // baggage octets are ASCII
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

const encoder = new TextEncoder();

// Everything outside the baggage octets, and "%" itself, is percent-encoded.
function percentEncode(value: string): string {
  let encoded = "";
  for (const char of value) {
    if (char !== "%" && BAGGAGE_OCTETS.test(char)) {
      encoded += char;
    } else {
      for (const byte of encoder.encode(char)) {
        encoded += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
    }
  }
  return encoded;
}

/**
 * Serializes baggage as a `baggage` value: keys that are not tokens are
 * left out, values are percent-encoded, and whole members are dropped past
 * 180 members or 8192 bytes.
 */
export function serializeBaggage(baggage: Baggage): string {
  const members: string[] = [];
  let bytes = 0;
  for (const [key, entry] of baggage.getAllEntries()) {
    if (!TOKEN.test(key)) continue;
    const metadata = entry.metadata?.toString();
    const member = `${key}=${percentEncode(entry.value)}${
      metadata ? `;${metadata}` : ""
    }`;
    const size = member.length + (members.length > 0 ? 1 : 0);
    if (
      members.length >= MAX_BAGGAGE_MEMBERS || bytes + size > MAX_BAGGAGE_BYTES
    ) break;
    members.push(member);
    bytes += size;
  }
  return members.join(",");
}
