import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Attributes,
  type AttributeValue,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import {
  ExportResultCode,
  loggingErrorHandler,
  setGlobalErrorHandler,
  TraceState,
} from "@opentelemetry/core";
import {
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanLimits,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { type Json, parseDocuments } from "../../internal/testing.ts";
import {
  anyTime,
  assertBytesOf,
  assertWritesAsDocuments,
  awkwardString,
  bytesSink,
  FORMATS,
  HOSTILE,
  memorySink,
  resource,
} from "./_test_utils.ts";
import {
  childSpanCount,
  ChildSpanCounter,
  type ConsoleFormat,
  formatTime,
  render,
  spanDocument,
  StdoutLogRecordExporter,
  StdoutSpanExporter,
  type TextSink,
} from "./mod.ts";

// A tracer provider that counts children, as the service's does, and
// exports each span, as it ends, to a StdoutSpanExporter writing to `sink`.
function stdoutTracerProvider(
  sink: TextSink,
  options: { format?: ConsoleFormat; spanLimits?: SpanLimits } = {},
): TracerProvider {
  return new TracerProvider({
    resource,
    spanLimits: options.spanLimits,
    spanProcessors: [
      new ChildSpanCounter(),
      new SimpleSpanProcessor({
        exporter: new StdoutSpanExporter({ sink, format: options.format }),
      }),
    ],
  });
}

// A child span with every kind of attribute, an event, a link and an error
// status, then its parent, a server span.
function recordChildAndParent(tracer: Tracer): void {
  const parent = tracer.startSpan("parent", { kind: SpanKind.SERVER });
  const link = {
    context: parent.spanContext(),
    attributes: { "link.kind": "cause" },
  };
  const startTime: [number, number] = [1700000000, 0];
  tracer.startActiveSpan("child", { links: [link], startTime }, (child) => {
    const attributes: Attributes = {
      string: HOSTILE,
      int: 6,
      float: 0.5,
      bool: true,
      strings: ["a", "b"],
      ints: [1, 2],
      floats: [1.5, 2],
      bools: [false],
    };
    child.setAttributes(attributes);
    child.addEvent("rolled", { value: 3 }, [1700000000, 123]);
    child.setStatus({ code: SpanStatusCode.ERROR, message: "bad luck" });
    child.end([1700000001, 5]);
  });
  parent.end();
}

async function exportSpans(format: ConsoleFormat = "pretty"): Promise<string> {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, { format });
  recordChildAndParent(provider.getTracer("test-scope", "1.2.3"));
  await provider.shutdown();
  return sink.text;
}

Deno.test("StdoutSpanExporter prints the fields of Go's stdouttrace", async (t) => {
  const [child, parent] = parseDocuments(await exportSpans()) as Array<
    Json
  >;

  await t.step("name, span context, parent and kind", () => {
    assert.equal(child.Name, "child");
    assert.match(child.SpanContext.TraceID, /^[0-9a-f]{32}$/);
    assert.match(child.SpanContext.SpanID, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      { ...child.SpanContext, TraceID: 0, SpanID: 0 },
      {
        TraceID: 0,
        SpanID: 0,
        TraceFlags: "01",
        TraceState: "",
        Remote: false,
      },
    );
    assert.equal(child.SpanKind, 1, "internal");
    assert.equal(parent.SpanKind, 2, "server");
    assert.deepEqual(parent.Parent, {
      TraceID: "00000000000000000000000000000000",
      SpanID: "0000000000000000",
      TraceFlags: "00",
      TraceState: "",
      Remote: false,
    });
  });

  await t.step("times as Go's RFC3339Nano, without trailing zeros", () => {
    assert.equal(child.StartTime, "2023-11-14T22:13:20Z");
    assert.match(
      parent.StartTime,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/,
    );
    assert.equal(child.EndTime, "2023-11-14T22:13:21.000000005Z");
  });

  await t.step("attributes with Go's type names", () => {
    assert.deepEqual(child.Attributes, [
      { Key: "string", Value: { Type: "STRING", Value: HOSTILE } },
      { Key: "int", Value: { Type: "INT64", Value: 6 } },
      { Key: "float", Value: { Type: "FLOAT64", Value: 0.5 } },
      { Key: "bool", Value: { Type: "BOOL", Value: true } },
      { Key: "strings", Value: { Type: "STRINGSLICE", Value: ["a", "b"] } },
      { Key: "ints", Value: { Type: "INT64SLICE", Value: [1, 2] } },
      { Key: "floats", Value: { Type: "FLOAT64SLICE", Value: [1.5, 2] } },
      { Key: "bools", Value: { Type: "BOOLSLICE", Value: [false] } },
    ]);
  });

  await t.step("events, links and status", () => {
    assert.deepEqual(child.Events, [{
      Name: "rolled",
      Attributes: [{ Key: "value", Value: { Type: "INT64", Value: 3 } }],
      DroppedAttributeCount: 0,
      Time: "2023-11-14T22:13:20.000000123Z",
    }]);
    assert.deepEqual(child.Links, [{
      SpanContext: parent.SpanContext,
      Attributes: [{
        Key: "link.kind",
        Value: { Type: "STRING", Value: "cause" },
      }],
      DroppedAttributeCount: 0,
    }]);
    assert.deepEqual(child.Status, { Code: "Error", Description: "bad luck" });
    assert.equal(parent.Events, null);
    assert.equal(parent.Links, null);
    assert.deepEqual(parent.Status, { Code: "Unset", Description: "" });
    assert.deepEqual(
      [child.DroppedAttributes, child.DroppedEvents, child.DroppedLinks],
      [0, 0, 0],
    );
  });

  await t.step("resource sorted by key, and instrumentation scope", () => {
    assert.deepEqual(child.Resource, [
      { Key: "a.first", Value: { Type: "INT64", Value: 1 } },
      { Key: "service.name", Value: { Type: "STRING", Value: "dice" } },
    ]);
    assert.deepEqual(child.InstrumentationScope, {
      Name: "test-scope",
      Version: "1.2.3",
      SchemaURL: "",
      Attributes: null,
    });
  });

  await t.step(
    "the scope under its old name too, as InstrumentationLibrary",
    () => {
      assert.equal(parent.InstrumentationLibrary.Name, "test-scope");
      assert.deepEqual(
        child.InstrumentationLibrary,
        child.InstrumentationScope,
      );
    },
  );

  await t.step("the fields in the order of Go's SpanStub", () => {
    assert.deepEqual(Object.keys(child), GO_SPAN_STUB_FIELDS);
    assert.deepEqual(Object.keys(parent), GO_SPAN_STUB_FIELDS);
  });
});

// The fields of opentelemetry-go's sdk/trace/tracetest SpanStub, which
// stdouttrace prints, in their order.
const GO_SPAN_STUB_FIELDS = [
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
];

// A parent with two children, one of them with an error status, so that
// both the plain and the other middle of a document precede a count; then
// a child of a remote parent, and a child started once its parent ended.
function recordFamily(tracer: Tracer): void {
  const parent = tracer.startSpan("parent");
  const inParent = trace.setSpan(ROOT_CONTEXT, parent);
  tracer.startSpan("first", {}, inParent).end();
  const second = tracer.startSpan("second", {}, inParent);
  second.setStatus({ code: SpanStatusCode.ERROR });
  second.end();
  parent.end();
  tracer.startSpan("late", {}, inParent).end();
  tracer.startSpan("remote child", {}, remoteParent).end();
}

Deno.test("StdoutSpanExporter prints ChildSpanCount as Go's SDK counts children", async (t) => {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink);
  recordFamily(provider.getTracer("test-scope"));
  await provider.shutdown();
  const documents = parseDocuments(sink.text) as Json[];
  const counts = Object.fromEntries(
    documents.map((document) => [document.Name, document.ChildSpanCount]),
  );

  await t.step("a parent with two children prints 2", () => {
    assert.equal(counts.parent, 2);
  });

  await t.step("each child prints 0", () => {
    assert.equal(counts.first, 0);
    assert.equal(counts.second, 0);
  });

  await t.step("a child started once its parent ended does not count", () => {
    assert.equal(counts.late, 0);
    assert.equal(counts.parent, 2);
  });

  await t.step("a child of a remote parent does not count", () => {
    assert.equal(counts["remote child"], 0);
    assert.equal(childSpanCount(trace.getSpan(remoteParent)!), 0);
  });
});

Deno.test("StdoutSpanExporter prints ChildSpanCount 0 without a ChildSpanCounter", async () => {
  const sink = memorySink();
  const provider = new TracerProvider({
    resource,
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: new StdoutSpanExporter({ sink }) }),
    ],
  });
  recordFamily(provider.getTracer("test-scope"));
  await provider.shutdown();
  const documents = parseDocuments(sink.text) as Json[];
  assert.deepEqual(
    documents.map((document) => [document.Name, document.ChildSpanCount]),
    [
      ["first", 0],
      ["second", 0],
      ["parent", 0],
      ["late", 0],
      ["remote child", 0],
    ],
  );
});

Deno.test("ChildSpanCounter counts a child only under a parent of its trace", async (t) => {
  const provider = new TracerProvider({ resource });
  const tracer = provider.getTracer("test-scope");
  const counter = new ChildSpanCounter();
  // SDK spans, which is what the SDK hands a processor.
  const start = (name: string) => tracer.startSpan(name) as unknown as Span;

  await t.step("a recording parent in the same trace", () => {
    const parent = start("parent");
    const inParent = trace.setSpan(ROOT_CONTEXT, parent);
    const child = tracer.startSpan("child", {}, inParent) as unknown as Span;
    counter.onStart(child, inParent);
    assert.equal(childSpanCount(parent), 1);
  });

  await t.step("not a parent in another trace", () => {
    const parent = start("parent");
    counter.onStart(start("stranger"), trace.setSpan(ROOT_CONTEXT, parent));
    assert.equal(childSpanCount(parent), 0);
  });

  await t.step("not without a parent", () => {
    const root = start("root");
    counter.onStart(root, ROOT_CONTEXT);
    assert.equal(childSpanCount(root), 0);
  });

  await provider.shutdown();
});

Deno.test("StdoutSpanExporter never lets a control character reach the terminal", async (t) => {
  for (const format of FORMATS) {
    await t.step(format, async () => {
      const text = await exportSpans(format);
      // Pretty output may hold its own newlines and tabs; nothing else.
      const allowed = format === "pretty" ? /[\n\t]/g : /\n/g;
      const unsafe = [...text.replace(allowed, "")].filter((char) => {
        const code = char.charCodeAt(0);
        return code < 0x20 || (code >= 0x7f && code <= 0x9f) ||
          code === 0x2028 ||
          code === 0x2029;
      });
      assert.deepEqual(unsafe, []);
      assert.ok(text.includes("\\u001b[2J"));
      assert.ok(text.includes("\\u009b31m"));
    });
  }
});

Deno.test("StdoutSpanExporter escapes <, > and & as Go's encoding/json does", async () => {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, { format: "compact" });
  const span = provider.getTracer("<scope>").startSpan("a<b>&c");
  span.setAttribute("html", "<script>&amp;</script>");
  span.end();
  await provider.shutdown();
  assert.ok(sink.text.includes('"Name":"a\\u003cb\\u003e\\u0026c"'), sink.text);
  assert.ok(
    sink.text.includes("\\u003cscript\\u003e\\u0026amp;\\u003c/script\\u003e"),
  );
  assert.ok(sink.text.includes('"Name":"\\u003cscope\\u003e"'));
  assert.doesNotMatch(sink.text, /[<>&]/);
  // Still the same strings to a JSON reader.
  const [document] = parseDocuments(sink.text) as Array<Record<string, Json>>;
  assert.equal(document.Name, "a<b>&c");
});

Deno.test("StdoutSpanExporter prints no attributes of a span, event or link as Go's null", async () => {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, { format: "compact" });
  const tracer = provider.getTracer("test-scope");
  const other = tracer.startSpan("other");
  const span = tracer.startSpan("bare", {
    links: [{ context: other.spanContext() }],
  });
  span.addEvent("happened");
  span.end();
  other.end();
  await provider.shutdown();
  const [bare] = parseDocuments(sink.text) as Array<Record<string, Json>>;
  assert.equal(bare.Name, "bare");
  assert.equal(bare.Attributes, null);
  const [event] = bare.Events as Array<Record<string, Json>>;
  assert.equal(event.Attributes, null);
  const [link] = bare.Links as Array<Record<string, Json>>;
  assert.equal(link.Attributes, null);
});

Deno.test("StdoutSpanExporter and StdoutLogRecordExporter lay documents out as render() does", async (t) => {
  for (const format of FORMATS) {
    await t.step(format, async () => {
      const sink = memorySink();
      const provider = new LoggerProvider({
        resource,
        processors: [
          new SimpleLogRecordProcessor({
            exporter: new StdoutLogRecordExporter({ sink, format }),
          }),
        ],
      });
      const logger = provider.getLogger("test-scope");
      logger.emit({ body: HOSTILE, attributes: { list: [1, "x"], n: 2.5 } });
      logger.emit({ body: { nested: { deep: [true] } }, eventName: "e" });
      logger.emit({});
      await provider.shutdown();
      const text = (await exportSpans(format)) + sink.text;

      // Each document, parsed and rendered again as one value, comes out
      // byte for byte the same: the hand-written layout is JSON.stringify's.
      const documents = format === "pretty"
        ? text.split(/(?<=\n\}\n)/)
        : text.split(/(?<=\n)/);
      assert.equal(documents.length, 5);
      for (const document of documents) {
        assert.equal(document, render(JSON.parse(document), format));
      }
    });
  }
});

const REMOTE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

// A context whose span is remote, sampled, and carries a trace state.
const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: REMOTE_TRACE_ID,
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=a"b'),
});

Deno.test("StdoutSpanExporter prints a remote parent and the trace state it passed on", async (t) => {
  for (const format of FORMATS) {
    await t.step(format, async () => {
      const sink = memorySink();
      const provider = stdoutTracerProvider(sink, { format });
      provider.getTracer("test-scope").startSpan("child", {}, remoteParent)
        .end();
      await provider.shutdown();

      assert.equal(sink.text, render(JSON.parse(sink.text), format));
      const document = JSON.parse(sink.text);
      assert.deepEqual(document.Parent, {
        TraceID: REMOTE_TRACE_ID,
        SpanID: "00f067aa0ba902b7",
        TraceFlags: "01",
        TraceState: 'vendor=a"b',
        Remote: true,
      });
      assert.deepEqual({ ...document.SpanContext, SpanID: "" }, {
        TraceID: REMOTE_TRACE_ID,
        SpanID: "",
        TraceFlags: "01",
        TraceState: 'vendor=a"b',
        Remote: false,
      });
    });
  }
});

const NOTHING_KEPT: SpanLimits = {
  attributeCountLimit: 0,
  eventCountLimit: 0,
  linkCountLimit: 0,
};

// Spans that each lose an attribute, an event or a link to the limits.
function recordDropped(tracer: Tracer): void {
  const other = tracer.startSpan("other");
  tracer.startSpan("attribute", { attributes: { a: 1 } }).end();
  const withEvent = tracer.startSpan("event");
  withEvent.addEvent("e");
  withEvent.end();
  tracer.startSpan("link", { links: [{ context: other.spanContext() }] }).end();
}

Deno.test("StdoutSpanExporter prints what the span limits dropped", async () => {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, { spanLimits: NOTHING_KEPT });
  recordDropped(provider.getTracer("test-scope"));
  await provider.shutdown();

  const documents = parseDocuments(sink.text) as Json[];
  assert.deepEqual(
    documents.map((document) => [
      document.Name,
      document.DroppedAttributes,
      document.DroppedEvents,
      document.DroppedLinks,
    ]),
    [["attribute", 1, 0, 0], ["event", 0, 1, 0], ["link", 0, 0, 1]],
  );
});

// The spans that `record` ends, as the SDK hands them to an exporter.
async function recordSpans(
  record: (tracer: Tracer) => void,
  spanLimits?: SpanLimits,
): Promise<ReadableSpan[]> {
  const spans = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource,
    spanLimits,
    spanProcessors: [
      new ChildSpanCounter(),
      new SimpleSpanProcessor({ exporter: spans }),
    ],
  });
  record(provider.getTracer("test-scope", "1.2.3"));
  await provider.forceFlush();
  return spans.getFinishedSpans();
}

// `span`, with `fields` in place of its own.
function spanWith(
  span: ReadableSpan,
  fields: Partial<ReadableSpan>,
): ReadableSpan {
  return Object.create(
    span,
    Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [name, { value }]),
    ),
  );
}

async function exportEach(
  spans: readonly ReadableSpan[],
  format: ConsoleFormat,
): Promise<Uint8Array[]> {
  const sink = bytesSink();
  const exporter = new StdoutSpanExporter({ sink, format });
  for (const span of spans) {
    await new Promise((done) => exporter.export([span], done));
  }
  return sink.exports;
}

Deno.test("StdoutSpanExporter prints a status description whatever the code", async () => {
  // The SDK keeps a description for errors only; other span sources may not.
  const [unset] = await recordSpans((tracer) =>
    tracer.startSpan("unset").end()
  );
  const described = spanWith(unset, {
    status: { code: SpanStatusCode.UNSET, message: "why" },
  });

  const sink = memorySink();
  await new Promise((done) =>
    new StdoutSpanExporter({ sink }).export([described], done)
  );
  assert.deepEqual(JSON.parse(sink.text).Status, {
    Code: "Unset",
    Description: "why",
  });
});

Deno.test("StdoutSpanExporter in compact format prints one document per line", async () => {
  const lines = (await exportSpans("compact")).split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(lines.map((line) => JSON.parse(line).Name), [
    "child",
    "parent",
  ]);
});

Deno.test("StdoutSpanExporter reports a failed write and refuses work after shutdown", async () => {
  const errors: unknown[] = [];
  setGlobalErrorHandler((error) => errors.push(error));
  try {
    const failing: TextSink = {
      unwritten: 0,
      write: () => Promise.reject(new Error("broken pipe")),
    };
    const exporter = new StdoutSpanExporter({ sink: failing });
    // The batch counts as exported once it is in the sink; the write that
    // fails later is reported through the global error handler.
    const result = await new Promise((resolve) => exporter.export([], resolve));
    assert.deepEqual(result, { code: ExportResultCode.SUCCESS });
    await exporter.forceFlush();
    assert.deepEqual(errors, [new Error("broken pipe")]);
  } finally {
    setGlobalErrorHandler(loggingErrorHandler());
  }

  const working = new StdoutSpanExporter({ sink: memorySink() });
  await working.shutdown();
  const refused = await new Promise<{ code: ExportResultCode }>((resolve) =>
    working.export([], resolve)
  );
  assert.equal(refused.code, ExportResultCode.FAILED);
});

Deno.test("StdoutSpanExporter writes each time as formatTime() prints it", async () => {
  // Back and forth across seconds, so that the second the writer keeps
  // from one time to the next must follow.
  const times: Array<[number, number]> = [
    [1700000000, 999999999],
    [1700000001, 1],
    [1700000000, 10],
    [0, 0],
    [4102444800, 123456789],
  ];
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink);
  const tracer = provider.getTracer("test-scope");
  for (const startTime of times) {
    tracer.startSpan("timed", { startTime }).end(startTime);
  }
  await provider.shutdown();
  const documents = parseDocuments(sink.text) as Json[];
  assert.deepEqual(
    documents.map((document) => [document.StartTime, document.EndTime]),
    times.map((time) => [formatTime(time), formatTime(time)]),
  );
});

// Spans from the SDK that take every path of the exporter: hostile strings,
// events, links, each status, dropped counts, remote parents.
async function awkwardSpans(): Promise<Record<string, ReadableSpan[]>> {
  const [unset] = await recordSpans((tracer) => tracer.startSpan("u").end());
  const unsampled: SpanContext = {
    ...unset.spanContext(),
    traceFlags: TraceFlags.NONE,
  };
  return {
    "a child with every attribute type, an event, a link, and its parent":
      await recordSpans(recordChildAndParent),
    "hostile strings in names, events and links": await recordSpans(
      recordHostile,
    ),
    "a remote parent with a trace state": await recordSpans((tracer) =>
      tracer.startSpan("child", {}, remoteParent).end()
    ),
    "parents with counted children, plain and not": await recordSpans(
      recordFamily,
    ),
    "what the span limits dropped": await recordSpans(
      recordDropped,
      NOTHING_KEPT,
    ),
    "each status, with and without a description": [
      spanWith(unset, { status: { code: SpanStatusCode.UNSET, message: "?" } }),
      spanWith(unset, { status: { code: SpanStatusCode.OK } }),
      spanWith(unset, {
        status: { code: SpanStatusCode.OK, message: HOSTILE },
      }),
      spanWith(unset, { status: { code: SpanStatusCode.ERROR } }),
    ],
    "an unsampled span context": [
      spanWith(unset, { spanContext: () => unsampled }),
    ],
  };
}

function recordHostile(tracer: Tracer): void {
  const span = tracer.startSpan(HOSTILE, {
    kind: SpanKind.CLIENT,
    links: [{
      context: trace.getSpanContext(remoteParent)!,
      attributes: { [HOSTILE]: [HOSTILE, ""] },
    }],
  }, remoteParent);
  span.addEvent(HOSTILE, { [HOSTILE]: HOSTILE, n: Number.NaN });
  span.addEvent("second", [1700000000, 5]);
  span.setAttribute(HOSTILE, [Infinity, -Infinity, 0.1]);
  span.setStatus({ code: SpanStatusCode.ERROR, message: HOSTILE });
  span.end();
}

Deno.test("StdoutSpanExporter writes each span byte for byte as render(spanDocument(span)) does", async (t) => {
  for (const [name, spans] of Object.entries(await awkwardSpans())) {
    await t.step(name, async (t) => {
      for (const format of FORMATS) {
        await t.step(format, async () => {
          const exports = await exportEach(spans, format);
          spans.forEach((span, i) =>
            assertBytesOf(exports[i], render(spanDocument(span), format))
          );
        });
      }
    });
  }
});

const scalar = fc.oneof(
  awkwardString,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

// Any attribute value, including the ones that the SDK would not keep.
const anyAttributeValue = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(awkwardString, scalar, { maxKeys: 2 }),
  fc.uint8Array({ maxLength: 4 }),
) as fc.Arbitrary<AttributeValue>;

const anyAttributes = fc.dictionary(awkwardString, anyAttributeValue, {
  maxKeys: 5,
});

const anySpanFields = fc.record({
  name: awkwardString,
  kind: fc.integer({ min: 0, max: 4 }),
  startTime: anyTime,
  attributes: anyAttributes,
  status: fc.record({
    code: fc.constantFrom(
      SpanStatusCode.UNSET,
      SpanStatusCode.OK,
      SpanStatusCode.ERROR,
    ),
    message: fc.option(awkwardString, { nil: undefined }),
  }),
  events: fc.array(
    fc.record({
      name: awkwardString,
      attributes: anyAttributes,
      time: anyTime,
    }),
    { maxLength: 2 },
  ),
  droppedAttributesCount: fc.nat(),
}) as fc.Arbitrary<Partial<ReadableSpan>>;

Deno.test("StdoutSpanExporter writes any span byte for byte as render(spanDocument(span)) does (property)", async () => {
  const [base] = await recordSpans(recordChildAndParent);
  assertWritesAsDocuments(
    anySpanFields.map((fields) => spanWith(base, fields)),
    (options) => new StdoutSpanExporter(options),
    spanDocument,
  );
});

// The span of opentelemetry-go v1.45.0's
// exporters/stdout/stdouttrace/trace_test.go (TestExporterExportSpan), at
// times that take each of Go's ways of printing one: a whole second, and
// fractions of three, seven and nine digits.
const GO_SPAN = {
  name: "/foo",
  kind: SpanKind.INTERNAL,
  spanContext: () => ({
    traceId: "0102030405060708090a0b0c0d0e0f10",
    spanId: "0102030405060708",
    traceFlags: TraceFlags.NONE,
    traceState: new TraceState("key=val"),
  }),
  parentSpanContext: undefined,
  startTime: [1700000031, 0],
  endTime: [1700000031, 96_000_000],
  duration: [0, 96_000_000],
  ended: true,
  status: { code: SpanStatusCode.ERROR, message: "interesting" },
  attributes: { key: "value", double: 123.456 },
  links: [],
  events: [
    { name: "foo", attributes: { key: "value" }, time: [1700000031, 100] },
    {
      name: "bar",
      attributes: { double: 123.456 },
      time: [1700000031, 123456789],
    },
  ],
  resource: resourceFromAttributes({ rk1: "rv11" }),
  instrumentationScope: { name: "" },
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
} as ReadableSpan;

Deno.test("StdoutSpanExporter prints a span as Go's stdouttrace v1.45 test expects, byte for byte", async () => {
  // Go's expected JSON, with these times as encoding/json prints them.
  const expected = await Deno.readTextFile(
    new URL("./testdata/stdouttrace_span.golden", import.meta.url),
  );
  const [pretty] = await exportEach([GO_SPAN], "pretty");
  assertBytesOf(pretty, expected);
  const [compact] = await exportEach([GO_SPAN], "compact");
  assertBytesOf(compact, JSON.stringify(JSON.parse(expected)) + "\n");
});
