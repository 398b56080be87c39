/**
 * Span, log record and metric exporters that print JSON documents to stdout,
 * carrying the same fields, under the same names, as OpenTelemetry Go's
 * `stdouttrace`, `stdoutlog` and `stdoutmetric` exporters that the Go
 * walkthrough prints.
 *
 * The SDK's own console exporters print `util.inspect` output, which is
 * neither JSON nor safe for a terminal when a value holds escape sequences.
 * These documents are always valid JSON, and every control character in them
 * is escaped, so nothing a client sends can move the cursor or recolour the
 * terminal.
 *
 * @module
 */

import type {
  AnyValue,
  Attributes,
  HrTime,
  SpanContext,
} from "@opentelemetry/api";
import { SpanStatusCode } from "@opentelemetry/api";
import {
  type ExportResult,
  ExportResultCode,
  type InstrumentationScope,
} from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type {
  LogRecordExporter,
  ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type {
  ReadableSpan,
  SpanExporter,
  TimedEvent,
} from "@opentelemetry/sdk-trace";
import type { Link } from "@opentelemetry/api";
import type { ConsoleFormat } from "./config.ts";

/** Receives the text of one export and resolves once all of it is written. */
export interface TextSink {
  /** Writes `text`, which holds `documents` documents, whole; rejects when it cannot. */
  write(text: string, documents: number): Promise<void>;
}

/** What {@linkcode stdoutSink} writes to, and whom it tells when it cannot. */
export interface StdoutSinkOptions {
  /** Where the bytes go; `Deno.stdout` by default. */
  output?: { write(bytes: Uint8Array): Promise<number> };
  /** Told once, when the output stops accepting writes. */
  warn?: (message: string) => void;
}

/** A {@linkcode TextSink} for stdout that survives stdout going away. */
export interface StdoutSink extends TextSink {
  /** How many documents were dropped because stdout no longer accepted writes. */
  readonly dropped: number;
}

/**
 * Writes to stdout one export at a time, so that the documents of the three
 * exporters never interleave, even when a pipe accepts only part of a write.
 *
 * When stdout stops accepting writes (`dice | head -c 100` closes the pipe),
 * it says so once through `warn`, then drops and counts every document
 * instead of failing every export, which would report the same loss on
 * every batch forever. The service keeps serving either way.
 */
export function stdoutSink(options: StdoutSinkOptions = {}): StdoutSink {
  const output = options.output ?? Deno.stdout;
  const warn = options.warn ??
    ((message: string) => console.error(`dice: ${message}`));
  const encoder = new TextEncoder();
  let tail: Promise<void> = Promise.resolve();
  let failed = false;
  let dropped = 0;

  async function writeOrDrop(text: string, documents: number): Promise<void> {
    if (!failed) {
      try {
        const bytes = encoder.encode(text);
        for (let offset = 0; offset < bytes.length;) {
          offset += await output.write(bytes.subarray(offset));
        }
        return;
      } catch (error) {
        failed = true;
        warn(
          `stdout does not accept telemetry any more (${describe(error)}); ` +
            "console telemetry is dropped from now on, and counted",
        );
      }
    }
    dropped += documents;
  }

  return {
    get dropped() {
      return dropped;
    },
    write(text, documents) {
      const written = tail.then(() => writeOrDrop(text, documents));
      tail = written;
      return written;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

/** Options shared by the three stdout exporters. */
export interface StdoutExporterOptions {
  /** Where the documents go; stdout by default. */
  sink?: TextSink;
  /** Pretty-printed documents (the default), or one compact document per line. */
  format?: ConsoleFormat;
}

/** The part the three exporters share: rendering, writing, flushing. */
class StdoutExporter {
  readonly #sink: TextSink;
  readonly #format: ConsoleFormat;
  readonly #pending = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: StdoutExporterOptions = {}) {
    this.#sink = options.sink ?? stdoutSink();
    this.#format = options.format ?? "pretty";
  }

  protected write(
    documents: readonly unknown[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    if (this.#stopped) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error("the stdout exporter is shut down"),
      });
      return;
    }
    const text = documents.map((doc) => render(doc, this.#format)).join("");
    const written = this.#sink.write(text, documents.length).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error) => resultCallback({ code: ExportResultCode.FAILED, error }),
    );
    this.#pending.add(written);
    written.finally(() => this.#pending.delete(written));
  }

  /** Resolves once every export handed over so far is written. */
  async forceFlush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** Refuses further exports and waits for the ones under way. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    await this.forceFlush();
  }
}

/** Prints each span as a JSON document shaped like Go's `stdouttrace`. */
export class StdoutSpanExporter extends StdoutExporter implements SpanExporter {
  /** Writes one document per span. */
  export(
    spans: ReadableSpan[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.write(spans.map(spanDocument), resultCallback);
  }
}

/** Prints each log record as a JSON document shaped like Go's `stdoutlog`. */
export class StdoutLogRecordExporter extends StdoutExporter
  implements LogRecordExporter {
  /** Writes one document per log record. */
  export(
    records: ReadableLogRecord[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.write(records.map(logRecordDocument), resultCallback);
  }
}

/** Prints each collection as a JSON document shaped like Go's `stdoutmetric`. */
export class StdoutMetricExporter extends StdoutExporter
  implements PushMetricExporter {
  /** Writes one document for the whole collection. */
  export(
    metrics: ResourceMetrics,
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.write([resourceMetricsDocument(metrics)], resultCallback);
  }
}

// JSON.stringify escapes U+0000..U+001F and lone surrogates; DEL and the C1
// controls (U+0080..U+009F, where U+009B is an 8-bit CSI) are valid JSON yet
// still reach a terminal raw, and U+2028/U+2029 end lines in JavaScript.
const UNSAFE_FOR_TERMINALS = /[\u007f-\u009f\u2028\u2029]/g;

function escapeUnsafe(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Renders one document as one line, or pretty-printed with tabs like Go's. */
export function render(document: unknown, format: ConsoleFormat): string {
  const json = format === "compact"
    ? JSON.stringify(document)
    : JSON.stringify(document, null, "\t");
  return json.replace(UNSAFE_FOR_TERMINALS, escapeUnsafe) + "\n";
}

/** Formats an HrTime as RFC 3339 in UTC with nanoseconds, as Go prints times. */
export function formatTime([seconds, nanos]: HrTime): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}

interface KeyValue {
  Key: string;
  Value: { Type: string; Value: unknown };
}

// Go's attribute.Type names, used for span, resource and metric attributes.
function attributeValue(value: unknown): KeyValue["Value"] {
  switch (typeof value) {
    case "string":
      return { Type: "STRING", Value: value };
    case "boolean":
      return { Type: "BOOL", Value: value };
    case "number":
      return numberValue(value, "INT64", "FLOAT64");
  }
  if (Array.isArray(value)) {
    const first = value.find((item) => item !== null && item !== undefined);
    const type = typeof first === "string"
      ? "STRINGSLICE"
      : typeof first === "boolean"
      ? "BOOLSLICE"
      : value.every((item) => Number.isInteger(item))
      ? "INT64SLICE"
      : "FLOAT64SLICE";
    return { Type: type, Value: value.map(jsonNumber) };
  }
  return { Type: "INVALID", Value: null };
}

// JavaScript has one number type; like the OTLP exporters, an integral value
// counts as an integer and any other as a float.
function numberValue(
  value: number,
  integer: string,
  float: string,
): KeyValue["Value"] {
  return Number.isInteger(value)
    ? { Type: integer, Value: value }
    : { Type: float, Value: jsonNumber(value) };
}

// JSON has no NaN or infinities; print them as Go's strconv does.
function jsonNumber(value: unknown): unknown {
  if (typeof value !== "number" || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

function attributesDocument(attributes: Attributes | undefined): KeyValue[] {
  const list: KeyValue[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) {
      list.push({ Key: key, Value: attributeValue(value) });
    }
  }
  return list;
}

// Go's log.Kind names, used for log bodies and log attributes, which may
// nest maps and slices.
function anyValue(value: AnyValue): KeyValue["Value"] {
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

function anyAttributesDocument(
  attributes: Record<string, AnyValue> | undefined,
): KeyValue[] {
  const list: KeyValue[] = [];
  for (const key in attributes) {
    list.push({ Key: key, Value: anyValue(attributes[key]) });
  }
  return list;
}

const resourceDocuments = new WeakMap<Resource, KeyValue[]>();

// A resource is shared by every item, so its document is built once; Go
// prints resource attributes sorted by key.
function resourceDocument(resource: Resource): KeyValue[] {
  let document = resourceDocuments.get(resource);
  if (!document) {
    document = attributesDocument(resource.attributes)
      .sort((a, b) => a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0);
    resourceDocuments.set(resource, document);
  }
  return document;
}

function scopeDocument(scope: InstrumentationScope) {
  return {
    Name: scope.name,
    Version: scope.version ?? "",
    SchemaURL: scope.schemaUrl ?? "",
  };
}

const INVALID_SPAN_CONTEXT_DOCUMENT = Object.freeze({
  TraceID: "00000000000000000000000000000000",
  SpanID: "0000000000000000",
  TraceFlags: "00",
  TraceState: "",
  Remote: false,
});

function spanContextDocument(spanContext: SpanContext | undefined) {
  if (!spanContext) return INVALID_SPAN_CONTEXT_DOCUMENT;
  return {
    TraceID: spanContext.traceId,
    SpanID: spanContext.spanId,
    TraceFlags: hexByte(spanContext.traceFlags),
    TraceState: spanContext.traceState?.serialize() ?? "",
    Remote: spanContext.isRemote ?? false,
  };
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}

const STATUS_NAMES: Record<SpanStatusCode, string> = {
  [SpanStatusCode.UNSET]: "Unset",
  [SpanStatusCode.OK]: "Ok",
  [SpanStatusCode.ERROR]: "Error",
};

function eventDocument(event: TimedEvent) {
  return {
    Name: event.name,
    Attributes: attributesDocument(event.attributes),
    DroppedAttributeCount: event.droppedAttributesCount ?? 0,
    Time: formatTime(event.time),
  };
}

function linkDocument(link: Link) {
  return {
    SpanContext: spanContextDocument(link.context),
    Attributes: attributesDocument(link.attributes),
    DroppedAttributeCount: link.droppedAttributesCount ?? 0,
  };
}

// The `stdouttrace` document of one span.
function spanDocument(span: ReadableSpan) {
  return {
    Name: span.name,
    SpanContext: spanContextDocument(span.spanContext()),
    Parent: spanContextDocument(span.parentSpanContext),
    // OTLP and Go number span kinds from 1 (internal); the JS API from 0.
    SpanKind: span.kind + 1,
    StartTime: formatTime(span.startTime),
    EndTime: formatTime(span.endTime),
    Attributes: attributesDocument(span.attributes),
    Events: span.events.length ? span.events.map(eventDocument) : null,
    Links: span.links.length ? span.links.map(linkDocument) : null,
    Status: {
      Code: STATUS_NAMES[span.status.code],
      Description: span.status.message ?? "",
    },
    DroppedAttributes: span.droppedAttributesCount,
    DroppedEvents: span.droppedEventsCount,
    DroppedLinks: span.droppedLinksCount,
    Resource: resourceDocument(span.resource),
    InstrumentationScope: scopeDocument(span.instrumentationScope),
  };
}

// The `stdoutlog` document of one log record.
function logRecordDocument(record: ReadableLogRecord) {
  const spanContext = record.spanContext;
  return {
    Timestamp: formatTime(record.hrTime),
    ObservedTimestamp: formatTime(record.hrTimeObserved),
    EventName: record.eventName ?? "",
    Severity: record.severityNumber ?? 0,
    SeverityText: record.severityText ?? "",
    Body: anyValue(record.body),
    Attributes: anyAttributesDocument(record.attributes),
    TraceID: spanContext?.traceId ?? INVALID_SPAN_CONTEXT_DOCUMENT.TraceID,
    SpanID: spanContext?.spanId ?? INVALID_SPAN_CONTEXT_DOCUMENT.SpanID,
    TraceFlags: hexByte(spanContext?.traceFlags ?? 0),
    Resource: resourceDocument(record.resource),
    Scope: scopeDocument(record.instrumentationScope),
    DroppedAttributes: record.droppedAttributesCount,
  };
}

const TEMPORALITY_NAMES: Record<AggregationTemporality, string> = {
  [AggregationTemporality.CUMULATIVE]: "CumulativeTemporality",
  [AggregationTemporality.DELTA]: "DeltaTemporality",
};

function pointTimes(
  point: { attributes: Attributes; startTime: HrTime; endTime: HrTime },
) {
  return {
    Attributes: attributesDocument(point.attributes),
    StartTime: formatTime(point.startTime),
    Time: formatTime(point.endTime),
  };
}

function metricDataDocument(metric: MetricData) {
  const Temporality = TEMPORALITY_NAMES[metric.aggregationTemporality];
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return {
        DataPoints: metric.dataPoints.map((point) => ({
          ...pointTimes(point),
          Value: jsonNumber(point.value),
        })),
        Temporality,
        IsMonotonic: metric.isMonotonic,
      };
    case DataPointType.GAUGE:
      return {
        DataPoints: metric.dataPoints.map((point) => ({
          ...pointTimes(point),
          Value: jsonNumber(point.value),
        })),
      };
    case DataPointType.HISTOGRAM:
      return {
        DataPoints: metric.dataPoints.map((point) => ({
          ...pointTimes(point),
          Count: point.value.count,
          Bounds: point.value.buckets.boundaries,
          BucketCounts: point.value.buckets.counts,
          Min: point.value.min ?? null,
          Max: point.value.max ?? null,
          Sum: point.value.sum ?? null,
        })),
        Temporality,
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        DataPoints: metric.dataPoints.map((point) => ({
          ...pointTimes(point),
          Count: point.value.count,
          Min: point.value.min ?? null,
          Max: point.value.max ?? null,
          Sum: point.value.sum ?? null,
          Scale: point.value.scale,
          ZeroCount: point.value.zeroCount,
          PositiveBucket: {
            Offset: point.value.positive.offset,
            Counts: point.value.positive.bucketCounts,
          },
          NegativeBucket: {
            Offset: point.value.negative.offset,
            Counts: point.value.negative.bucketCounts,
          },
        })),
        Temporality,
      };
  }
}

// The `stdoutmetric` document of one collection.
function resourceMetricsDocument(metrics: ResourceMetrics) {
  return {
    Resource: resourceDocument(metrics.resource),
    ScopeMetrics: metrics.scopeMetrics.map((scopeMetrics) => ({
      Scope: scopeDocument(scopeMetrics.scope),
      Metrics: scopeMetrics.metrics.map((metric) => ({
        Name: metric.descriptor.name,
        Description: metric.descriptor.description,
        Unit: metric.descriptor.unit,
        Data: metricDataDocument(metric),
      })),
    })),
  };
}
