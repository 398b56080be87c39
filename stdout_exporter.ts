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
import { SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import {
  type ExportResult,
  ExportResultCode,
  globalErrorHandler,
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

/** Receives the UTF-8 text of one export and resolves once all of it is written. */
export interface TextSink {
  /**
   * Writes `bytes`, which hold `documents` documents, whole; rejects when it
   * cannot. The exporter reuses `bytes` once the promise settles.
   */
  write(bytes: Uint8Array, documents: number): Promise<void>;
  /** How many bytes it was given and has not written yet, from every exporter. */
  readonly unwritten: number;
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
 * Writes to stdout one write at a time, so that the documents of the three
 * exporters never interleave, even when a pipe accepts only part of a write;
 * the exports that arrive meanwhile go out together, in order, next.
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
  // Exports that arrive while a write is under way wait here, and go out
  // together in the next write: one write per turn of the event loop,
  // whatever the number of exports, keeps up with a loaded service.
  let waiting: Array<{ bytes: Uint8Array; documents: number; done(): void }> =
    [];
  let writing = false;
  let failed = false;
  let dropped = 0;
  let unwritten = 0;

  async function writeOrDrop(
    bytes: Uint8Array,
    documents: number,
  ): Promise<void> {
    if (!failed) {
      try {
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

  // What the exports that waited are copied into, to go out in one write;
  // kept for the next such write, as the exporters keep theirs.
  let joined = new Uint8Array(0);

  function join(chunks: Uint8Array[]): Uint8Array {
    if (chunks.length === 1) return chunks[0];
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (joined.length < length) joined = new Uint8Array(length * 2);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return joined.subarray(0, length);
  }

  async function writeWaiting(): Promise<void> {
    writing = true;
    while (waiting.length > 0) {
      const exports = waiting;
      waiting = [];
      await writeOrDrop(
        join(exports.map((e) => e.bytes)),
        exports.reduce((sum, e) => sum + e.documents, 0),
      );
      for (const e of exports) {
        unwritten -= e.bytes.length;
        e.done();
      }
    }
    writing = false;
  }

  return {
    get dropped() {
      return dropped;
    },
    get unwritten() {
      return unwritten;
    },
    write(bytes, documents) {
      unwritten += bytes.length;
      return new Promise((done) => {
        waiting.push({ bytes, documents, done });
        if (!writing) writeWaiting();
      });
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
  readonly #pending = new Set<Promise<void>>();
  readonly #shared = new WeakMap<object, Uint8Array>();
  // The size of the largest export so far, and room for a document more:
  // batches are alike, so the next one fits without growing its buffer.
  #capacity = 64 * 1024;
  // Buffers whose bytes the sink has written, for the next exports: a
  // fresh megabyte for every batch cost more, in page faults, than the
  // rendering of the batch into it.
  readonly #spare: Uint8Array[] = [];
  #stopped = false;
  /** The console format of this exporter's documents. */
  protected readonly format: ConsoleFormat;
  /** The fixed parts of its documents, in that format. */
  protected readonly parts: DocumentParts;

  constructor(options: StdoutExporterOptions = {}) {
    this.#sink = options.sink ?? stdoutSink();
    this.format = options.format ?? "pretty";
    this.parts = documentParts(LAYOUTS[this.format]);
  }

  /**
   * The UTF-8 text of a part that many documents share as a field, such as
   * a resource or an instrumentation scope: rendered once per object, then
   * copied.
   */
  protected shared(key: object, document: () => unknown): Uint8Array {
    let bytes = this.#shared.get(key);
    if (bytes === undefined) {
      bytes = encoder.encode(embed(document(), this.parts.layout, 1));
      this.#shared.set(key, bytes);
    }
    return bytes;
  }

  /** Renders each item with `render`, then writes them all at once. */
  protected write<T>(
    items: readonly T[],
    render: (item: T, out: Utf8Buffer) => void,
    resultCallback: (result: ExportResult) => void,
  ): void {
    if (this.#stopped) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error("the stdout exporter is shut down"),
      });
      return;
    }
    const out = new Utf8Buffer(
      this.#spare.pop() ?? new Uint8Array(this.#capacity),
    );
    for (const item of items) render(item, out);
    const bytes = out.bytes();
    this.#capacity = Math.max(this.#capacity, bytes.length + 64 * 1024);
    // The processor sends its next batch only once this one is reported.
    // Waiting for the write would hold it for as long as the event loop
    // takes to come back to the write, and under load its queue would fill
    // meanwhile; so a batch counts as exported once it is in the sink, for
    // as long as less than MAX_UNWRITTEN_BYTES waits in the sink, which the
    // three exporters share. Beyond that the processor waits, its bounded
    // queue fills, and it drops and counts.
    const early = this.#sink.unwritten + bytes.length <= MAX_UNWRITTEN_BYTES;
    const written = this.#sink.write(bytes, items.length).finally(() => {
      if (this.#spare.length < SPARE_BUFFERS) {
        this.#spare.push(new Uint8Array(bytes.buffer));
      }
    });
    if (early) resultCallback({ code: ExportResultCode.SUCCESS });
    const reported = written.then(
      () => {
        if (!early) resultCallback({ code: ExportResultCode.SUCCESS });
      },
      (error) => {
        if (early) globalErrorHandler(error);
        else resultCallback({ code: ExportResultCode.FAILED, error });
      },
    );
    this.#pending.add(reported);
    reported.finally(() => this.#pending.delete(reported));
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

const encoder = new TextEncoder();

// Enough for an export being rendered while two wait in the sink.
const SPARE_BUFFERS = 3;

/** How much the exporters let wait in their sink before exports wait for it. */
export const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;

/**
 * UTF-8 text built in place. The documents are written straight into it:
 * their fixed parts and the parts they share (the resource alone is half of
 * every document) are copied as bytes, and their strings, nearly all plain
 * ASCII, one code unit to one byte. Encoding each document from template
 * strings, and checking its strings with a regular expression, took a third
 * of the exporter's time (see BENCHMARKS.md).
 */
class Utf8Buffer {
  #buffer: Uint8Array;
  #length = 0;

  constructor(buffer: Uint8Array) {
    this.#buffer = buffer;
  }

  /** Appends bytes that are already UTF-8. */
  utf8(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Appends `text` as UTF-8. */
  text(text: string): void {
    // A UTF-16 code unit never takes more than three bytes in UTF-8.
    this.#reserve(text.length * 3);
    this.#length += encoder.encodeInto(
      text,
      this.#buffer.subarray(this.#length),
    ).written;
  }

  /** Appends `text`, which holds ASCII characters only, such as a number. */
  ascii(text: string): void {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  /** Appends `value` as a JSON string, safe for a terminal. */
  string(value: string): void {
    this.#reserve(value.length + 2);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      // Printable ASCII other than the quote and the backslash is copied as
      // it is, as nearly every string here is; a string that holds anything
      // else is escaped whole by JSON.stringify instead.
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) {
        this.text(quote(value));
        return;
      }
      buffer[at++] = code;
    }
    buffer[at++] = QUOTE;
    this.#length = at;
  }

  /** Appends a time as a JSON string, as {@linkcode formatTime} prints it. */
  time(time: HrTime): void {
    const nanos = time[1];
    if (!(Number.isInteger(nanos) && nanos >= 0 && nanos < 1e9)) {
      return this.string(formatTime(time));
    }
    // Written as bytes: the date and time of day, shared by nearly every
    // time in a batch, are copied, and the nine digits computed in place.
    const second = secondBytes(time[0]);
    this.#reserve(second.length + 11);
    const buffer = this.#buffer;
    buffer.set(second, this.#length);
    let at = this.#length + second.length;
    for (let unit = 1e8; unit >= 1; unit /= 10) {
      buffer[at++] = 0x30 + Math.floor(nanos / unit) % 10;
    }
    buffer[at++] = 0x5a; // Z
    buffer[at++] = QUOTE;
    this.#length = at;
  }

  /** Appends a Value field's JSON: a primitive as is, anything else embedded. */
  value(value: unknown, layout: Layout, depth: number): void {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
      case "boolean":
        return this.ascii(String(value));
    }
    if (value === null) this.ascii("null");
    else this.text(embed(value, layout, depth));
  }

  /**
   * Appends attributes as a list of Go's KeyValue documents, each value typed
   * by `valueOf` (undefined leaves the attribute out), laid out at depth 1
   * as JSON.stringify would: without building the list first.
   */
  keyValues<T>(
    attributes: Readonly<Record<string, T>> | undefined,
    valueOf: (value: T) => KeyValue["Value"] | undefined,
    parts: DocumentParts,
  ): void {
    const { keyValue } = parts;
    let first = true;
    for (const key in attributes) {
      const typed = valueOf(attributes[key]);
      if (typed === undefined) continue;
      this.utf8(first ? keyValue.first : keyValue.next);
      first = false;
      this.string(key);
      this.utf8(typedValue(parts, typed.Type));
      this.value(typed.Value, parts.layout, 4);
      this.utf8(keyValue.end);
    }
    this.utf8(first ? parts.emptyList : keyValue.listEnd);
  }

  /** Appends a span context's fields as an object at depth 1. */
  spanContext(
    spanContext: SpanContext | undefined,
    parts: DocumentParts,
  ): void {
    if (!spanContext) return this.utf8(parts.invalidSpanContext);
    const keys = parts.spanContext;
    this.utf8(keys.TraceID);
    this.string(spanContext.traceId);
    this.utf8(keys.SpanID);
    this.string(spanContext.spanId);
    const { traceFlags, traceState, isRemote } = spanContext;
    // The rest of nearly every span context is the same bytes.
    if (traceFlags === TraceFlags.SAMPLED && !traceState && !isRemote) {
      return this.utf8(parts.sampledLocalTail);
    }
    this.spanContextTail(
      traceFlags,
      traceState?.serialize() ?? "",
      isRemote,
      parts,
    );
  }

  /** Appends a span context's fields after its span ID, and closes it. */
  spanContextTail(
    traceFlags: number,
    traceState: string,
    isRemote: boolean | undefined,
    parts: DocumentParts,
  ): void {
    const keys = parts.spanContext;
    this.utf8(keys.TraceFlags);
    this.string(hexByte(traceFlags));
    this.utf8(keys.TraceState);
    this.string(traceState);
    this.utf8(keys.Remote);
    this.ascii(isRemote ? "true" : "false");
    this.utf8(parts.close1);
  }

  /** Appends a span's fields from Events to the Resource key. */
  spanMiddle(span: SpanMiddle, parts: DocumentParts): void {
    const field = parts.span;
    this.utf8(field.Events);
    if (span.events.length === 0) this.ascii("null");
    else this.text(embed(span.events.map(eventDocument), parts.layout, 1));
    this.utf8(field.Links);
    if (span.links.length === 0) this.ascii("null");
    else this.text(embed(span.links.map(linkDocument), parts.layout, 1));
    this.utf8(field.Status);
    this.utf8(parts.status.Code);
    this.string(STATUS_NAMES[span.status.code]);
    this.utf8(parts.status.Description);
    this.string(span.status.message ?? "");
    this.utf8(parts.close1);
    this.utf8(field.DroppedAttributes);
    this.ascii(String(span.droppedAttributesCount));
    this.utf8(field.DroppedEvents);
    this.ascii(String(span.droppedEventsCount));
    this.utf8(field.DroppedLinks);
    this.ascii(String(span.droppedLinksCount));
    this.utf8(field.Resource);
  }

  /** What was appended. */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(length: number): void {
    if (this.#length + length <= this.#buffer.length) return;
    const grown = new Uint8Array(
      Math.max(this.#buffer.length * 2, this.#length + length),
    );
    grown.set(this.bytes());
    this.#buffer = grown;
  }
}

// What follows an attribute's key up to its value, for a value of `type`:
// a handful of types, each encoded once per layout.
function typedValue(parts: DocumentParts, type: string): Uint8Array {
  let bytes = parts.typed.get(type);
  if (bytes === undefined) {
    const { nl, colon } = parts.layout;
    bytes = encoder.encode(
      `,${nl[3]}"Value"${colon}{${nl[4]}"Type"${colon}${quote(type)},` +
        `${nl[4]}"Value"${colon}`,
    );
    parts.typed.set(type, bytes);
  }
  return bytes;
}

/** The fields of a span that {@linkcode Utf8Buffer.spanMiddle} prints. */
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

// Whether `span` prints its middle fields as PLAIN_SPAN does.
function isPlain(span: SpanMiddle): boolean {
  return span.events.length === 0 && span.links.length === 0 &&
    span.status.code === SpanStatusCode.UNSET && !span.status.message &&
    span.droppedAttributesCount === 0 && span.droppedEventsCount === 0 &&
    span.droppedLinksCount === 0;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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
  "Resource",
  "InstrumentationScope",
] as const;

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

const SPAN_CONTEXT_FIELDS = [
  "TraceID",
  "SpanID",
  "TraceFlags",
  "TraceState",
  "Remote",
] as const;

/** The fixed parts of the span and log documents in one layout, as UTF-8. */
interface DocumentParts {
  readonly layout: Layout;
  /** What comes before each field's value in a span document. */
  readonly span: Record<typeof SPAN_FIELDS[number], Uint8Array>;
  /** What comes before each field's value in a log record document. */
  readonly log: Record<typeof LOG_FIELDS[number], Uint8Array>;
  /** What comes before each field's value in a span's span context. */
  readonly spanContext: Record<typeof SPAN_CONTEXT_FIELDS[number], Uint8Array>;
  /** What comes before each field's value in a span's status. */
  readonly status: Record<"Code" | "Description", Uint8Array>;
  /** What comes before each field's value in a log record's body. */
  readonly body: Record<"Type" | "Value", Uint8Array>;
  /** The parts of a list of attributes that is a field of a document. */
  readonly keyValue: Record<"first" | "next" | "end" | "listEnd", Uint8Array>;
  /** What follows a key up to its value, by the value's type name. */
  readonly typed: Map<string, Uint8Array>;
  readonly emptyList: Uint8Array;
  readonly invalidSpanContext: Uint8Array;
  /** A span context's fields after its span ID: sampled, local, no trace state. */
  readonly sampledLocalTail: Uint8Array;
  /**
   * A span's fields from Events to the Resource key, for a span without
   * events, links, status or anything dropped.
   */
  readonly plainSpanMiddle: Uint8Array;
  /** What closes an object that is a field of a document, and a document. */
  readonly close1: Uint8Array;
  readonly close0: Uint8Array;
}

const DOCUMENT_PARTS = new Map<Layout, DocumentParts>();

function documentParts(layout: Layout): DocumentParts {
  let parts = DOCUMENT_PARTS.get(layout);
  if (parts) return parts;
  const { nl, colon } = layout;
  // `{` or `,`, a new line, and the key: what precedes each field's value
  // in an object whose fields sit at `depth`.
  function keys<const Name extends string>(
    depth: number,
    names: readonly Name[],
  ): Record<Name, Uint8Array> {
    return Object.fromEntries(names.map((name, i) => [
      name,
      encoder.encode(`${i === 0 ? "{" : ","}${nl[depth]}"${name}"${colon}`),
    ])) as Record<Name, Uint8Array>;
  }
  const item = `${nl[2]}{${nl[3]}"Key"${colon}`;
  parts = {
    layout,
    span: keys(1, SPAN_FIELDS),
    log: keys(1, LOG_FIELDS),
    spanContext: keys(2, SPAN_CONTEXT_FIELDS),
    status: keys(2, ["Code", "Description"]),
    body: keys(2, ["Type", "Value"]),
    keyValue: {
      first: encoder.encode(`[${item}`),
      next: encoder.encode(`,${item}`),
      end: encoder.encode(`${nl[3]}}${nl[2]}}`),
      listEnd: encoder.encode(`${nl[1]}]`),
    },
    typed: new Map(),
    emptyList: encoder.encode("[]"),
    invalidSpanContext: encoder.encode(
      embed(INVALID_SPAN_CONTEXT_DOCUMENT, layout, 1),
    ),
    close1: encoder.encode(`${nl[1]}}`),
    close0: encoder.encode(`${nl[0]}}\n`),
    // Filled in below, by the code that renders every other case.
    sampledLocalTail: new Uint8Array(0),
    plainSpanMiddle: new Uint8Array(0),
  };
  const tail = new Utf8Buffer(new Uint8Array(256));
  tail.spanContextTail(TraceFlags.SAMPLED, "", false, parts);
  const middle = new Utf8Buffer(new Uint8Array(256));
  middle.spanMiddle(PLAIN_SPAN, parts);
  parts = {
    ...parts,
    sampledLocalTail: tail.bytes().slice(),
    plainSpanMiddle: middle.bytes().slice(),
  };
  DOCUMENT_PARTS.set(layout, parts);
  return parts;
}

/** Prints each span as a JSON document shaped like Go's `stdouttrace`. */
export class StdoutSpanExporter extends StdoutExporter implements SpanExporter {
  /** Writes one document per span. */
  export(
    spans: ReadableSpan[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.write(spans, (span, out) => this.#render(span, out), resultCallback);
  }

  // The `stdouttrace` document of one span, written out field by field.
  #render(span: ReadableSpan, out: Utf8Buffer): void {
    const parts = this.parts;
    const field = parts.span;
    out.utf8(field.Name);
    out.string(span.name);
    out.utf8(field.SpanContext);
    out.spanContext(span.spanContext(), parts);
    out.utf8(field.Parent);
    out.spanContext(span.parentSpanContext, parts);
    // OTLP and Go number span kinds from 1 (internal); the JS API from 0.
    out.utf8(field.SpanKind);
    out.ascii(String(span.kind + 1));
    out.utf8(field.StartTime);
    out.time(span.startTime);
    out.utf8(field.EndTime);
    out.time(span.endTime);
    out.utf8(field.Attributes);
    out.keyValues(span.attributes, attributeValue, parts);
    // The fields that follow are the same bytes for nearly every span.
    if (isPlain(span)) out.utf8(parts.plainSpanMiddle);
    else out.spanMiddle(span, parts);
    out.utf8(this.shared(span.resource, () => resourceDocument(span.resource)));
    out.utf8(field.InstrumentationScope);
    const scope = span.instrumentationScope;
    out.utf8(this.shared(scope, () => scopeDocument(scope)));
    out.utf8(parts.close0);
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
    this.write(
      records,
      (record, out) => this.#render(record, out),
      resultCallback,
    );
  }

  // The `stdoutlog` document of one log record, written out as spans are.
  #render(record: ReadableLogRecord, out: Utf8Buffer): void {
    const parts = this.parts;
    const field = parts.log;
    const spanContext = record.spanContext;
    const body = anyValue(record.body);
    out.utf8(field.Timestamp);
    out.time(record.hrTime);
    out.utf8(field.ObservedTimestamp);
    out.time(record.hrTimeObserved);
    out.utf8(field.EventName);
    out.string(record.eventName ?? "");
    out.utf8(field.Severity);
    out.ascii(String(record.severityNumber ?? 0));
    out.utf8(field.SeverityText);
    out.string(record.severityText ?? "");
    out.utf8(field.Body);
    out.utf8(parts.body.Type);
    out.string(body.Type);
    out.utf8(parts.body.Value);
    out.value(body.Value, parts.layout, 2);
    out.utf8(parts.close1);
    out.utf8(field.Attributes);
    out.keyValues(record.attributes, anyValue, parts);
    out.utf8(field.TraceID);
    out.string(spanContext?.traceId ?? INVALID_SPAN_CONTEXT_DOCUMENT.TraceID);
    out.utf8(field.SpanID);
    out.string(spanContext?.spanId ?? INVALID_SPAN_CONTEXT_DOCUMENT.SpanID);
    out.utf8(field.TraceFlags);
    out.string(hexByte(spanContext?.traceFlags ?? 0));
    out.utf8(field.Resource);
    out.utf8(
      this.shared(record.resource, () => resourceDocument(record.resource)),
    );
    out.utf8(field.Scope);
    const scope = record.instrumentationScope;
    out.utf8(this.shared(scope, () => scopeDocument(scope)));
    out.utf8(field.DroppedAttributes);
    out.ascii(String(record.droppedAttributesCount));
    out.utf8(parts.close0);
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
    // One document every few seconds: built as objects, for plain reading.
    this.write(
      [metrics],
      (item, out) =>
        out.text(render(resourceMetricsDocument(item), this.format)),
      resultCallback,
    );
  }
}

// JSON.stringify escapes U+0000..U+001F and lone surrogates; DEL and the C1
// controls (U+0080..U+009F, where U+009B is an 8-bit CSI) are valid JSON yet
// still reach a terminal raw, and U+2028/U+2029 end lines in JavaScript.
const UNSAFE_FOR_TERMINALS = /[\u007f-\u009f\u2028\u2029]/g;

function escapeUnsafe(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** How one console format lays a document out. */
interface Layout {
  /** What starts a line at depth `d`, `nl[d]`: nothing when compact. */
  readonly nl: readonly string[];
  /** What goes between a key and its value. */
  readonly colon: string;
  /** JSON.stringify's `space` argument. */
  readonly space: string;
}

const LAYOUTS: Record<ConsoleFormat, Layout> = {
  // Go's stdout exporters pretty-print with tabs, as JSON.stringify does
  // with "\t": one field per line.
  pretty: {
    nl: Array.from({ length: 8 }, (_, depth) => "\n" + "\t".repeat(depth)),
    colon: ": ",
    space: "\t",
  },
  compact: { nl: Array(8).fill(""), colon: ":", space: "" },
};

/** Renders one document as one line, or pretty-printed with tabs like Go's. */
export function render(document: unknown, format: ConsoleFormat): string {
  return embed(document, LAYOUTS[format], 0) + "\n";
}

// The JSON text of `value`, laid out to sit at `depth` inside a document.
function embed(value: unknown, layout: Layout, depth: number): string {
  // Every raw newline in JSON.stringify's output is layout: the ones in
  // strings are escaped.
  const json = layout.space
    ? JSON.stringify(value, null, layout.space).replaceAll(
      "\n",
      layout.nl[depth],
    )
    : JSON.stringify(value);
  return json.replace(UNSAFE_FOR_TERMINALS, escapeUnsafe);
}

// A string as JSON, safe for a terminal.
function quote(value: string): string {
  return JSON.stringify(value).replace(UNSAFE_FOR_TERMINALS, escapeUnsafe);
}

// Nearly every time printed in a batch falls in the same second as the one
// before it; its date and time of day are formatted once, as text and as
// the bytes that start a JSON string.
let lastSeconds = NaN;
let lastSecondText = "";
let lastBytesSeconds = NaN;
let lastSecondBytes = new Uint8Array(0);

// `YYYY-MM-DDTHH:MM:SS` in UTC.
function secondText(seconds: number): string {
  if (seconds !== lastSeconds) {
    lastSecondText = new Date(seconds * 1000).toISOString().slice(0, 19);
    lastSeconds = seconds;
  }
  return lastSecondText;
}

// `"YYYY-MM-DDTHH:MM:SS.` as UTF-8.
function secondBytes(seconds: number): Uint8Array {
  if (seconds !== lastBytesSeconds) {
    lastSecondBytes = encoder.encode(`"${secondText(seconds)}.`);
    lastBytesSeconds = seconds;
  }
  return lastSecondBytes;
}

/** Formats an HrTime as RFC 3339 in UTC with nanoseconds, as Go prints times. */
export function formatTime([seconds, nanos]: HrTime): string {
  return `${secondText(seconds)}.${String(nanos).padStart(9, "0")}Z`;
}

interface KeyValue {
  Key: string;
  Value: { Type: string; Value: unknown };
}

// Go's attribute.Type names, used for span, resource and metric attributes;
// an attribute without a value is left out.
function attributeValue(value: unknown): KeyValue["Value"] | undefined {
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
    const value = attributeValue(attributes[key]);
    if (value !== undefined) list.push({ Key: key, Value: value });
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

const HEX_BYTES = Array.from(
  { length: 256 },
  (_, value) => value.toString(16).padStart(2, "0"),
);

function hexByte(value: number): string {
  return HEX_BYTES[value] ?? value.toString(16).padStart(2, "0");
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
