/**
 * The span exporter that prints JSON documents shaped like OpenTelemetry Go's
 * `stdouttrace`. {@linkcode spanDocument} specifies one document as objects;
 * {@linkcode StdoutSpanExporter} writes the same bytes field by field,
 * copying the fixed parts. `ChildSpanCount` is what a `ChildSpanCounter`
 * counted, and 0 without one.
 *
 * @module
 */

import {
  type Link,
  type SpanContext,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import type {
  ReadableSpan,
  SpanExporter,
  TimedEvent,
} from "@opentelemetry/sdk-trace";
import {
  attributesDocument,
  attributeValue,
  hexByte,
  INVALID_SPAN_CONTEXT,
  resourceDocument,
  scopeDocument,
  spanContextDocument,
} from "./document.ts";
import { childSpanCount } from "./child_span_counter.ts";
import { StdoutExporter } from "./exporter.ts";
import {
  closeDocument,
  closeObject,
  fieldKeys,
  formatTime,
  JsonWriter,
  type Layout,
  renderAt,
  utf8,
} from "./json_writer.ts";

/** Prints each span as a JSON document shaped like Go's `stdouttrace`. */
export class StdoutSpanExporter extends StdoutExporter<ReadableSpan>
  implements SpanExporter {
  readonly #parts = spanPartsOf(this.layout);

  /** Writes one document per span. */
  export(
    spans: ReadableSpan[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.exportItems(spans, resultCallback);
  }

  /** Writes the document that {@linkcode spanDocument} specifies, field by field. */
  protected writeDocument(span: ReadableSpan, out: JsonWriter): void {
    const parts = this.#parts;
    const key = parts.field;
    out.raw(key.Name);
    out.string(span.name);
    out.raw(key.SpanContext);
    writeSpanContext(out, span.spanContext(), parts);
    out.raw(key.Parent);
    writeSpanContext(out, span.parentSpanContext, parts);
    out.raw(key.SpanKind);
    out.number(spanKind(span));
    out.raw(key.StartTime);
    out.time(span.startTime);
    out.raw(key.EndTime);
    out.time(span.endTime);
    out.raw(key.Attributes);
    out.keyValues(span.attributes, attributeValue, true);
    // The fields that follow are the same bytes for nearly every span.
    if (isPlain(span)) out.raw(parts.plainMiddle);
    else writeMiddle(out, span, parts);
    out.raw(key.ChildSpanCount);
    out.number(childSpanCount(span));
    out.raw(key.Resource);
    out.raw(this.shared(span.resource, () => resourceDocument(span.resource)));
    const scope = span.instrumentationScope;
    // Go prints the scope under its deprecated name as well: one rendering,
    // copied twice.
    const scopeBytes = this.shared(scope, () => scopeDocument(scope, null));
    out.raw(key.InstrumentationScope);
    out.raw(scopeBytes);
    out.raw(key.InstrumentationLibrary);
    out.raw(scopeBytes);
    out.raw(parts.closeDocument);
  }
}

/**
 * The `stdouttrace` document of one span, as objects: what
 * {@linkcode StdoutSpanExporter} prints, byte for byte, once rendered by
 * `render`.
 */
export function spanDocument(span: ReadableSpan): Record<string, unknown> {
  const scope = scopeDocument(span.instrumentationScope, null);
  return {
    Name: span.name,
    SpanContext: spanContextDocument(span.spanContext()),
    Parent: spanContextDocument(span.parentSpanContext),
    SpanKind: spanKind(span),
    StartTime: formatTime(span.startTime),
    EndTime: formatTime(span.endTime),
    Attributes: nilWhenEmpty(attributesDocument(span.attributes)),
    Events: eventsDocument(span),
    Links: linksDocument(span),
    Status: statusDocument(span),
    DroppedAttributes: span.droppedAttributesCount,
    DroppedEvents: span.droppedEventsCount,
    DroppedLinks: span.droppedLinksCount,
    ChildSpanCount: childSpanCount(span),
    Resource: resourceDocument(span.resource),
    InstrumentationScope: scope,
    // Go's SpanStub still carries the scope under its deprecated name too,
    // and jq paths written against older output read that one.
    InstrumentationLibrary: scope,
  };
}

// OTLP and Go number span kinds from 1 (internal); the JS API from 0.
function spanKind(span: ReadableSpan): number {
  return span.kind + 1;
}

const STATUS_NAMES: Record<SpanStatusCode, string> = {
  [SpanStatusCode.UNSET]: "Unset",
  [SpanStatusCode.OK]: "Ok",
  [SpanStatusCode.ERROR]: "Error",
};

function statusDocument(span: Pick<ReadableSpan, "status">) {
  return {
    Code: STATUS_NAMES[span.status.code],
    Description: span.status.message ?? "",
  };
}

// Go's span snapshot holds nil for no attributes, events or links: null.
function nilWhenEmpty<T>(list: T[]): T[] | null {
  return list.length ? list : null;
}

// Go prints an empty list of events or links as null.
function eventsDocument(span: Pick<ReadableSpan, "events">) {
  return span.events.length ? span.events.map(eventDocument) : null;
}

function linksDocument(span: Pick<ReadableSpan, "links">) {
  return span.links.length ? span.links.map(linkDocument) : null;
}

function eventDocument(event: TimedEvent) {
  return {
    Name: event.name,
    Attributes: nilWhenEmpty(attributesDocument(event.attributes)),
    DroppedAttributeCount: event.droppedAttributesCount ?? 0,
    Time: formatTime(event.time),
  };
}

function linkDocument(link: Link) {
  return {
    SpanContext: spanContextDocument(link.context),
    Attributes: nilWhenEmpty(attributesDocument(link.attributes)),
    DroppedAttributeCount: link.droppedAttributesCount ?? 0,
  };
}

/** The fields of a span that {@linkcode writeMiddle} writes. */
type SpanMiddle = Pick<
  ReadableSpan,
  | "events"
  | "links"
  | "status"
  | "droppedAttributesCount"
  | "droppedEventsCount"
  | "droppedLinksCount"
>;

const PLAIN_SPAN: SpanMiddle = {
  events: [],
  links: [],
  status: { code: SpanStatusCode.UNSET },
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
};

// Whether `span` writes its middle fields as PLAIN_SPAN does.
function isPlain(span: SpanMiddle): boolean {
  return span.events.length === 0 && span.links.length === 0 &&
    span.status.code === SpanStatusCode.UNSET && !span.status.message &&
    span.droppedAttributesCount === 0 && span.droppedEventsCount === 0 &&
    span.droppedLinksCount === 0;
}

const SPAN_FIELDS = [
  "Name",
  "SpanContext",
  "Parent",
  "SpanKind",
  "StartTime",
  "EndTime",
  "Attributes",
  "Events",
  "Links",
  "Status",
  "DroppedAttributes",
  "DroppedEvents",
  "DroppedLinks",
  "ChildSpanCount",
  "Resource",
  "InstrumentationScope",
  "InstrumentationLibrary",
] as const;

const SPAN_CONTEXT_FIELDS = [
  "TraceID",
  "SpanID",
  "TraceFlags",
  "TraceState",
  "Remote",
] as const;

/** The fixed parts of a span document in one layout, as UTF-8. */
interface SpanKeys {
  /** What precedes each field's value in the document. */
  readonly field: Record<typeof SPAN_FIELDS[number], Uint8Array>;
  /** What precedes each field's value in a span context. */
  readonly spanContext: Record<typeof SPAN_CONTEXT_FIELDS[number], Uint8Array>;
  /** What precedes each field's value in the status. */
  readonly status: Record<"Code" | "Description", Uint8Array>;
  /** A missing span context, whole. */
  readonly invalidSpanContext: Uint8Array;
  /** What closes an object that is a field of the document. */
  readonly closeField: Uint8Array;
  readonly closeDocument: Uint8Array;
}

/** {@linkcode SpanKeys}, and the parts that nearly every span shares. */
interface SpanParts extends SpanKeys {
  /** A span context's fields after its span ID: sampled, local, no trace state. */
  readonly sampledLocalTail: Uint8Array;
  /**
   * The fields from Events to DroppedLinks of a span without events, links,
   * status or anything dropped.
   */
  readonly plainMiddle: Uint8Array;
}

const SPAN_PARTS = new Map<Layout, SpanParts>();

function spanPartsOf(layout: Layout): SpanParts {
  let parts = SPAN_PARTS.get(layout);
  if (!parts) {
    const keys = spanKeys(layout);
    // Written by the code that writes every other case, so that they
    // cannot drift apart.
    parts = {
      ...keys,
      sampledLocalTail: bytesWrittenBy(
        layout,
        (out) => writeSpanContextTail(out, TraceFlags.SAMPLED, "", false, keys),
      ),
      plainMiddle: bytesWrittenBy(
        layout,
        (out) => writeMiddle(out, PLAIN_SPAN, keys),
      ),
    };
    SPAN_PARTS.set(layout, parts);
  }
  return parts;
}

function spanKeys(layout: Layout): SpanKeys {
  return {
    field: fieldKeys(layout, 1, SPAN_FIELDS),
    spanContext: fieldKeys(layout, 2, SPAN_CONTEXT_FIELDS),
    status: fieldKeys(layout, 2, ["Code", "Description"]),
    invalidSpanContext: utf8(renderAt(INVALID_SPAN_CONTEXT, layout, 1)),
    closeField: closeObject(layout, 2),
    closeDocument: closeDocument(layout),
  };
}

// What `write` writes, as bytes of their own.
function bytesWrittenBy(
  layout: Layout,
  write: (out: JsonWriter) => void,
): Uint8Array {
  const out = new JsonWriter(layout);
  write(out);
  return out.written().slice();
}

// A span context, as an object that is a field of the document.
function writeSpanContext(
  out: JsonWriter,
  spanContext: SpanContext | undefined,
  parts: SpanParts,
): void {
  if (!spanContext) return out.raw(parts.invalidSpanContext);
  const key = parts.spanContext;
  out.raw(key.TraceID);
  out.string(spanContext.traceId);
  out.raw(key.SpanID);
  out.string(spanContext.spanId);
  const { traceFlags, traceState, isRemote } = spanContext;
  // The rest of nearly every span context is the same bytes.
  if (traceFlags === TraceFlags.SAMPLED && !traceState && !isRemote) {
    return out.raw(parts.sampledLocalTail);
  }
  const state = traceState?.serialize() ?? "";
  writeSpanContextTail(out, traceFlags, state, isRemote ?? false, parts);
}

// A span context's fields after its span ID, and the end of it.
function writeSpanContextTail(
  out: JsonWriter,
  traceFlags: number,
  traceState: string,
  isRemote: boolean,
  keys: SpanKeys,
): void {
  const key = keys.spanContext;
  out.raw(key.TraceFlags);
  out.string(hexByte(traceFlags));
  out.raw(key.TraceState);
  out.string(traceState);
  out.raw(key.Remote);
  out.boolean(isRemote);
  out.raw(keys.closeField);
}

// The fields from Events to DroppedLinks.
function writeMiddle(out: JsonWriter, span: SpanMiddle, keys: SpanKeys): void {
  const key = keys.field;
  out.raw(key.Events);
  out.value(eventsDocument(span), 1);
  out.raw(key.Links);
  out.value(linksDocument(span), 1);
  out.raw(key.Status);
  out.raw(keys.status.Code);
  out.string(STATUS_NAMES[span.status.code]);
  out.raw(keys.status.Description);
  out.string(span.status.message ?? "");
  out.raw(keys.closeField);
  out.raw(key.DroppedAttributes);
  out.number(span.droppedAttributesCount);
  out.raw(key.DroppedEvents);
  out.number(span.droppedEventsCount);
  out.raw(key.DroppedLinks);
  out.number(span.droppedLinksCount);
}
