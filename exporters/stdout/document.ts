/**
 * The parts that the span, log record and metric documents share, built as
 * objects with the field names and type names of OpenTelemetry Go's stdout
 * exporters: attributes as `KeyValue` lists, the resource, the
 * instrumentation scope and span contexts.
 *
 * @module
 */

import type { AnyValue, Attributes, SpanContext } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { KeyValue, TypedValue } from "./json_writer.ts";

/**
 * An attribute value with Go's `attribute.Type` name, as spans, resources and
 * metrics print them; `undefined` for an attribute without a value, which
 * Go's SDK would not have kept.
 */
export function attributeValue(value: unknown): TypedValue | undefined {
  switch (typeof value) {
    case "undefined":
      return undefined;
    case "string":
      return { Type: "STRING", Value: value };
    case "boolean":
      return { Type: "BOOL", Value: value };
    case "number":
      return numberValue(value, "INT64", "FLOAT64");
  }
  if (Array.isArray(value)) {
    return { Type: sliceType(value), Value: value.map(jsonNumber) };
  }
  return { Type: "INVALID", Value: null };
}

// The SDK keeps only homogeneous arrays; their first value tells the type.
function sliceType(values: readonly unknown[]): string {
  const first = values.find((item) => item !== null && item !== undefined);
  if (typeof first === "string") return "STRINGSLICE";
  if (typeof first === "boolean") return "BOOLSLICE";
  return values.every((item) => Number.isInteger(item))
    ? "INT64SLICE"
    : "FLOAT64SLICE";
}

// JavaScript has one number type; like the OTLP exporters, an integral value
// counts as an integer and any other as a float.
function numberValue(
  value: number,
  integer: string,
  float: string,
): TypedValue {
  return Number.isInteger(value)
    ? { Type: integer, Value: value }
    : { Type: float, Value: jsonNumber(value) };
}

/** A number as JSON can hold it: NaN and the infinities as Go's strconv prints them. */
export function jsonNumber(value: unknown): unknown {
  if (typeof value !== "number" || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

/** Span, resource or metric attributes as Go's `KeyValue` list. */
export function attributesDocument(
  attributes: Attributes | undefined,
): KeyValue[] {
  const list: KeyValue[] = [];
  for (const key in attributes) {
    const value = attributeValue(attributes[key]);
    if (value !== undefined) list.push({ Key: key, Value: value });
  }
  return list;
}

/**
 * A log body or log attribute value with Go's `attribute.Type` name, as
 * stdoutlog v0.21 prints the `attribute.Value` of a record. A JavaScript
 * list does not say whether it is Go's `[]string` or `[]Value`, and may mix
 * types or nest, so it is a `SLICE` of typed values; a map is a `MAP` sorted
 * by key, as Go's `attribute.MapValue` keeps it.
 */
export function anyValue(value: AnyValue): TypedValue {
  if (value === null || value === undefined) {
    return { Type: "EMPTY", Value: null };
  }
  switch (typeof value) {
    case "string":
      return { Type: "STRING", Value: value };
    case "boolean":
      return { Type: "BOOL", Value: value };
    case "number":
      return numberValue(value, "INT64", "FLOAT64");
  }
  if (value instanceof Uint8Array) {
    // Go's []byte, which encoding/json prints in base64.
    return { Type: "BYTESLICE", Value: base64(value) };
  }
  if (Array.isArray(value)) {
    return { Type: "SLICE", Value: value.map(anyValue) };
  }
  return {
    Type: "MAP",
    Value: sortByKey(
      anyAttributesDocument(value as Record<string, AnyValue>),
    ),
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Log attributes, or a log map, as Go's `KeyValue` list, in the order they
 * were set: a Go log record keeps its attributes as a list.
 */
export function anyAttributesDocument(
  attributes: Readonly<Record<string, AnyValue>> | undefined,
): KeyValue[] {
  const list: KeyValue[] = [];
  for (const key in attributes) {
    list.push({ Key: key, Value: anyValue(attributes[key]) });
  }
  return list;
}

const resourceDocuments = new WeakMap<Resource, KeyValue[]>();

/**
 * Attributes held as Go's `attribute.Set`, such as a metric data point's:
 * sorted by key, as the set keeps them.
 */
export function attributeSetDocument(
  attributes: Attributes | undefined,
): KeyValue[] {
  return sortByKey(attributesDocument(attributes));
}

/**
 * A resource's attributes, sorted by key as Go prints them. Every item of a
 * batch shares one resource, so its list is built once.
 */
export function resourceDocument(resource: Resource): KeyValue[] {
  let document = resourceDocuments.get(resource);
  if (!document) {
    document = attributeSetDocument(resource.attributes);
    resourceDocuments.set(resource, document);
  }
  return document;
}

// Sorts in place, in the order of Go's string comparison.
function sortByKey(list: KeyValue[]): KeyValue[] {
  return list.sort((a, b) => compareUtf8(a.Key, b.Key));
}

/**
 * Compares two strings as Go compares them: by their UTF-8 bytes, which is
 * the order of code points. UTF-16 code units are in that order too, except
 * that the surrogates (U+D800..U+DFFF, which make the code points above
 * U+FFFF) sort below U+E000..U+FFFF there and above them in UTF-8.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(codeUnit: number): number {
  if (codeUnit < 0xd800) return codeUnit;
  return codeUnit < 0xe000 ? codeUnit + 0x2000 : codeUnit - 0x800;
}

/**
 * What Go prints as a scope's `Attributes` (a JavaScript scope has none):
 * `null` where encoding/json reaches the scope's empty `attribute.Set`
 * through a pointer, as in a span stub or a metric collection, so that the
 * set's `MarshalJSON` prints its nil data; `{}` in a log record, which holds
 * the scope by value, so that encoding/json prints the set's exported
 * fields, of which there are none.
 */
export type ScopeAttributes = null | Record<string, never>;

/** An instrumentation scope as Go prints it. */
export function scopeDocument(
  scope: InstrumentationScope,
  attributes: ScopeAttributes,
): {
  Name: string;
  Version: string;
  SchemaURL: string;
  Attributes: ScopeAttributes;
} {
  return {
    Name: scope.name,
    Version: scope.version ?? "",
    SchemaURL: scope.schemaUrl ?? "",
    Attributes: attributes,
  };
}

/** A span context as Go prints it. */
export interface SpanContextDocument {
  /** 32 hexadecimal digits. */
  TraceID: string;
  /** 16 hexadecimal digits. */
  SpanID: string;
  /** 2 hexadecimal digits. */
  TraceFlags: string;
  /** The W3C `tracestate` header's value, or "". */
  TraceState: string;
  /** Whether the span context came from another process. */
  Remote: boolean;
}

/** What Go prints for a missing span context, such as a root span's parent. */
export const INVALID_SPAN_CONTEXT: Readonly<SpanContextDocument> = Object
  .freeze({
    TraceID: "00000000000000000000000000000000",
    SpanID: "0000000000000000",
    TraceFlags: "00",
    TraceState: "",
    Remote: false,
  });

/** A span context as Go prints it; the invalid one when there is none. */
export function spanContextDocument(
  spanContext: SpanContext | undefined,
): Readonly<SpanContextDocument> {
  if (!spanContext) return INVALID_SPAN_CONTEXT;
  return {
    TraceID: spanContext.traceId,
    SpanID: spanContext.spanId,
    TraceFlags: hexByte(spanContext.traceFlags),
    TraceState: spanContext.traceState?.serialize() ?? "",
    Remote: spanContext.isRemote ?? false,
  };
}

/** Trace flags as two hexadecimal digits. */
export function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}
