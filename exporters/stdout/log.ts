/**
 * The log record exporter that prints JSON documents shaped like
 * OpenTelemetry Go's `stdoutlog`. {@linkcode logRecordDocument} specifies one
 * document as objects; {@linkcode StdoutLogRecordExporter} writes the same
 * bytes field by field, copying the fixed parts.
 *
 * @module
 */

import type { ExportResult } from "@opentelemetry/core";
import type {
  LogRecordExporter,
  ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import {
  anyAttributesDocument,
  anyValue,
  hexByte,
  INVALID_SPAN_CONTEXT,
  resourceDocument,
  scopeDocument,
} from "./document.ts";
import { StdoutExporter } from "./exporter.ts";
import {
  closeDocument,
  closeObject,
  fieldKeys,
  formatTime,
  type JsonWriter,
  type Layout,
} from "./json_writer.ts";

/** Prints each log record as a JSON document shaped like Go's `stdoutlog`. */
export class StdoutLogRecordExporter extends StdoutExporter<ReadableLogRecord>
  implements LogRecordExporter {
  readonly #parts = logPartsOf(this.layout);

  /** Writes one document per log record. */
  export(
    records: ReadableLogRecord[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.exportItems(records, resultCallback);
  }

  /** Writes the document that {@linkcode logRecordDocument} specifies, field by field. */
  protected writeDocument(record: ReadableLogRecord, out: JsonWriter): void {
    const parts = this.#parts;
    const key = parts.field;
    out.raw(key.Timestamp);
    out.time(record.hrTime);
    out.raw(key.ObservedTimestamp);
    out.time(record.hrTimeObserved);
    // Go's stdoutlog leaves an empty event name out.
    if (record.eventName) {
      out.raw(key.EventName);
      out.string(record.eventName);
    }
    out.raw(key.Severity);
    out.number(record.severityNumber ?? 0);
    out.raw(key.SeverityText);
    out.string(record.severityText ?? "");
    out.raw(key.Body);
    writeBody(out, record, parts);
    out.raw(key.Attributes);
    out.keyValues(record.attributes, anyValue);
    writeTraceContext(out, record, parts);
    out.raw(key.Resource);
    out.raw(
      this.shared(record.resource, () => resourceDocument(record.resource)),
    );
    out.raw(key.Scope);
    const scope = record.instrumentationScope;
    out.raw(this.shared(scope, () => scopeDocument(scope, {})));
    out.raw(key.DroppedAttributes);
    out.number(record.droppedAttributesCount);
    out.raw(parts.closeDocument);
  }
}

/**
 * The `stdoutlog` document of one log record, as objects: what
 * {@linkcode StdoutLogRecordExporter} prints, byte for byte, once rendered
 * by `render`.
 */
export function logRecordDocument(
  record: ReadableLogRecord,
): Record<string, unknown> {
  const spanContext = record.spanContext;
  return {
    Timestamp: formatTime(record.hrTime),
    ObservedTimestamp: formatTime(record.hrTimeObserved),
    // Go's `json:",omitempty"` tag leaves an empty event name out.
    ...(record.eventName ? { EventName: record.eventName } : {}),
    Severity: record.severityNumber ?? 0,
    SeverityText: record.severityText ?? "",
    Body: anyValue(record.body),
    Attributes: anyAttributesDocument(record.attributes),
    TraceID: spanContext?.traceId ?? INVALID_SPAN_CONTEXT.TraceID,
    SpanID: spanContext?.spanId ?? INVALID_SPAN_CONTEXT.SpanID,
    TraceFlags: hexByte(spanContext?.traceFlags ?? 0),
    Resource: resourceDocument(record.resource),
    Scope: scopeDocument(record.instrumentationScope, {}),
    DroppedAttributes: record.droppedAttributesCount,
  };
}

const LOG_FIELDS = [
  "Timestamp",
  "ObservedTimestamp",
  "EventName",
  "Severity",
  "SeverityText",
  "Body",
  "Attributes",
  "TraceID",
  "SpanID",
  "TraceFlags",
  "Resource",
  "Scope",
  "DroppedAttributes",
] as const;

/** The fixed parts of a log record document in one layout, as UTF-8. */
interface LogParts {
  /** What precedes each field's value in the document. */
  readonly field: Record<typeof LOG_FIELDS[number], Uint8Array>;
  /** What precedes each field's value in the body. */
  readonly body: Record<"Type" | "Value", Uint8Array>;
  /** What closes the body. */
  readonly closeField: Uint8Array;
  readonly closeDocument: Uint8Array;
}

const LOG_PARTS = new Map<Layout, LogParts>();

function logPartsOf(layout: Layout): LogParts {
  let parts = LOG_PARTS.get(layout);
  if (!parts) {
    parts = {
      field: fieldKeys(layout, 1, LOG_FIELDS),
      body: fieldKeys(layout, 2, ["Type", "Value"]),
      closeField: closeObject(layout, 2),
      closeDocument: closeDocument(layout),
    };
    LOG_PARTS.set(layout, parts);
  }
  return parts;
}

// The body, with its type, as an object that is a field of the document.
function writeBody(
  out: JsonWriter,
  record: ReadableLogRecord,
  parts: LogParts,
): void {
  const body = anyValue(record.body);
  out.raw(parts.body.Type);
  out.string(body.Type);
  out.raw(parts.body.Value);
  out.value(body.Value, 2);
  out.raw(parts.closeField);
}

// The IDs and flags of the span the record was emitted in, if any.
function writeTraceContext(
  out: JsonWriter,
  record: ReadableLogRecord,
  parts: LogParts,
): void {
  const spanContext = record.spanContext;
  out.raw(parts.field.TraceID);
  out.string(spanContext?.traceId ?? INVALID_SPAN_CONTEXT.TraceID);
  out.raw(parts.field.SpanID);
  out.string(spanContext?.spanId ?? INVALID_SPAN_CONTEXT.SpanID);
  out.raw(parts.field.TraceFlags);
  out.string(hexByte(spanContext?.traceFlags ?? 0));
}
