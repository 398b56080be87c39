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
 * A log body or log attribute value with Go's `log.Kind` name; maps and
 * slices nest.
 */
export function anyValue(value: AnyValue): TypedValue {
  if (value === null || value === undefined) {
    return { Type: "Empty", Value: null };
  }
  switch (typeof value) {
    case "string":
      return { Type: "String", Value: value };
    case "boolean":
      return { Type: "Bool", Value: value };
    case "number":
      return numberValue(value, "Int64", "Float64");
  }
  if (value instanceof Uint8Array) {
    return { Type: "Bytes", Value: base64(value) };
  }
  if (Array.isArray(value)) {
    return { Type: "Slice", Value: value.map(anyValue) };
  }
  return {
    Type: "Map",
    Value: anyAttributesDocument(value as Record<string, AnyValue>),
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Log attributes, or a log map, as Go's `KeyValue` list. */
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
 * A resource's attributes, sorted by key as Go prints them. Every item of a
 * batch shares one resource, so its list is built once.
 */
export function resourceDocument(resource: Resource): KeyValue[] {
  let document = resourceDocuments.get(resource);
  if (!document) {
    document = attributesDocument(resource.attributes)
      .sort((a, b) => a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0);
    resourceDocuments.set(resource, document);
  }
  return document;
}

/** An instrumentation scope as Go prints it. */
export function scopeDocument(scope: InstrumentationScope): {
  Name: string;
  Version: string;
  SchemaURL: string;
} {
  return {
    Name: scope.name,
    Version: scope.version ?? "",
    SchemaURL: scope.schemaUrl ?? "",
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
