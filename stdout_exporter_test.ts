import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Attributes,
  ROOT_CONTEXT,
  SeverityNumber,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  ValueType,
} from "@opentelemetry/api";
import {
  ExportResultCode,
  loggingErrorHandler,
  setGlobalErrorHandler,
  TraceState,
} from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanLimits,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { ConsoleFormat } from "./config.ts";
import {
  formatTime,
  MAX_UNWRITTEN_BYTES,
  render,
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  stdoutSink,
  StdoutSpanExporter,
  type TextSink,
} from "./stdout_exporter.ts";
import { type Json, parseDocuments } from "./testing.ts";

const resource = resourceFromAttributes({
  "service.name": "dice",
  "a.first": 1,
});

/** A sink that keeps what it is given. */
function memorySink(): TextSink & { text: string } {
  return {
    text: "",
    unwritten: 0,
    write(bytes) {
      this.text += new TextDecoder().decode(bytes);
      return Promise.resolve();
    },
  };
}

// A tracer provider that exports each span, as it ends, to a
// StdoutSpanExporter writing to `sink`.
function stdoutTracerProvider(
  sink: TextSink,
  options: { format?: ConsoleFormat; spanLimits?: SpanLimits } = {},
): TracerProvider {
  return new TracerProvider({
    resource,
    spanLimits: options.spanLimits,
    spanProcessors: [
      new SimpleSpanProcessor({
        exporter: new StdoutSpanExporter({ sink, format: options.format }),
      }),
    ],
  });
}

// Everything a hostile player name could throw at a terminal or a JSON parser.
const HOSTILE =
  'Mallory\x1b[2J\x1b]0;pwned\x07\r\n\t"\\\u0000\u007f\u009b31m\u2028\ud800';

async function exportSpans(format: ConsoleFormat = "pretty"): Promise<string> {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, { format });
  const tracer = provider.getTracer("test-scope", "1.2.3");
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

  await t.step("times in RFC 3339 with nanoseconds", () => {
    assert.equal(child.StartTime, "2023-11-14T22:13:20.000000000Z");
    assert.match(parent.StartTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
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
    });
  });
});

Deno.test("StdoutSpanExporter never lets a control character reach the terminal", async (t) => {
  for (const format of ["pretty", "compact"] as const) {
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

Deno.test("StdoutSpanExporter and StdoutLogRecordExporter lay documents out as render() does", async (t) => {
  for (const format of ["pretty", "compact"] as const) {
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

Deno.test("StdoutSpanExporter prints a remote parent and the trace state it passed on", async (t) => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=a"b'),
  });
  for (const format of ["pretty", "compact"] as const) {
    await t.step(format, async () => {
      const sink = memorySink();
      const provider = stdoutTracerProvider(sink, { format });
      provider.getTracer("test-scope").startSpan("child", {}, parent).end();
      await provider.shutdown();

      assert.equal(sink.text, render(JSON.parse(sink.text), format));
      const document = JSON.parse(sink.text);
      assert.deepEqual(document.Parent, {
        TraceID: traceId,
        SpanID: "00f067aa0ba902b7",
        TraceFlags: "01",
        TraceState: 'vendor=a"b',
        Remote: true,
      });
      assert.deepEqual({ ...document.SpanContext, SpanID: "" }, {
        TraceID: traceId,
        SpanID: "",
        TraceFlags: "01",
        TraceState: 'vendor=a"b',
        Remote: false,
      });
    });
  }
});

Deno.test("StdoutSpanExporter prints what the span limits dropped", async () => {
  const sink = memorySink();
  const provider = stdoutTracerProvider(sink, {
    spanLimits: {
      attributeCountLimit: 0,
      eventCountLimit: 0,
      linkCountLimit: 0,
    },
  });
  const tracer = provider.getTracer("test-scope");
  const other = tracer.startSpan("other");
  tracer.startSpan("attribute", { attributes: { a: 1 } }).end();
  const withEvent = tracer.startSpan("event");
  withEvent.addEvent("e");
  withEvent.end();
  tracer.startSpan("link", { links: [{ context: other.spanContext() }] }).end();
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

Deno.test("StdoutSpanExporter prints a status description whatever the code", async () => {
  // The SDK keeps a description for errors only; other span sources may not.
  const spans = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  provider.getTracer("test-scope").startSpan("unset").end();
  await provider.forceFlush();
  const described: ReadableSpan = Object.create(spans.getFinishedSpans()[0], {
    status: { value: { code: SpanStatusCode.UNSET, message: "why" } },
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

Deno.test("StdoutLogRecordExporter prints the fields of Go's stdoutlog", async () => {
  const sink = memorySink();
  const provider = new LoggerProvider({
    resource,
    processors: [
      new SimpleLogRecordProcessor({
        exporter: new StdoutLogRecordExporter({ sink }),
      }),
    ],
  });
  provider.getLogger("test-scope").emit({
    timestamp: [1700000000, 1],
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    body: `${HOSTILE} is rolling the dice`,
    attributes: {
      result: 4,
      nested: { list: [1, "x"], bytes: new Uint8Array([104, 105]) },
      none: null,
    },
  });
  await provider.shutdown();
  const [record] = parseDocuments(sink.text);

  assert.equal(record.Timestamp, "2023-11-14T22:13:20.000000001Z");
  assert.match(record.ObservedTimestamp, /Z$/);
  assert.equal(record.Severity, 9);
  assert.equal(record.SeverityText, "INFO");
  assert.deepEqual(record.Body, {
    Type: "String",
    Value: `${HOSTILE} is rolling the dice`,
  });
  assert.deepEqual(record.Attributes, [
    { Key: "result", Value: { Type: "Int64", Value: 4 } },
    {
      Key: "nested",
      Value: {
        Type: "Map",
        Value: [
          {
            Key: "list",
            Value: {
              Type: "Slice",
              Value: [{ Type: "Int64", Value: 1 }, {
                Type: "String",
                Value: "x",
              }],
            },
          },
          { Key: "bytes", Value: { Type: "Bytes", Value: "aGk=" } },
        ],
      },
    },
    { Key: "none", Value: { Type: "Empty", Value: null } },
  ]);
  assert.equal(record.TraceID, "00000000000000000000000000000000");
  assert.equal(record.SpanID, "0000000000000000");
  assert.equal(record.TraceFlags, "00");
  assert.equal(record.Resource.length, 2);
  assert.deepEqual(record.Scope, {
    Name: "test-scope",
    Version: "",
    SchemaURL: "",
  });
  assert.equal(record.DroppedAttributes, 0);
});

Deno.test("StdoutMetricExporter prints the fields of Go's stdoutmetric", async (t) => {
  const sink = memorySink();
  const provider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new StdoutMetricExporter({ sink }),
      }),
    ],
  });
  const meter = provider.getMeter("test-scope", "0.1.0");
  meter.createCounter("rolls", {
    unit: "{roll}",
    description: "Rolls.",
    valueType: ValueType.INT,
  })
    .add(2, { face: 6 });
  meter.createHistogram("latency", {
    unit: "s",
    advice: { explicitBucketBoundaries: [0.1, 1] },
  })
    .record(0.5);
  meter.createUpDownCounter("active").add(-1);
  meter.createGauge("temperature").record(21.5);
  await provider.shutdown();
  const [document] = parseDocuments(sink.text);
  const [scopeMetrics] = document.ScopeMetrics;
  const byName = Object.fromEntries(
    scopeMetrics.Metrics.map((
      metric: Json,
    ) => [metric.Name, metric]),
  );

  await t.step("resource and scope", () => {
    assert.equal(document.Resource.length, 2);
    assert.deepEqual(scopeMetrics.Scope, {
      Name: "test-scope",
      Version: "0.1.0",
      SchemaURL: "",
    });
  });

  await t.step("sums with temporality and monotonicity", () => {
    const rolls = byName.rolls;
    assert.equal(rolls.Unit, "{roll}");
    assert.equal(rolls.Description, "Rolls.");
    assert.equal(rolls.Data.Temporality, "CumulativeTemporality");
    assert.equal(rolls.Data.IsMonotonic, true);
    const [point] = rolls.Data.DataPoints;
    assert.deepEqual(point.Attributes, [{
      Key: "face",
      Value: { Type: "INT64", Value: 6 },
    }]);
    assert.equal(point.Value, 2);
    assert.match(point.StartTime, /Z$/);
    assert.match(point.Time, /Z$/);
    assert.equal(byName.active.Data.IsMonotonic, false);
    assert.equal(byName.active.Data.DataPoints[0].Value, -1);
  });

  await t.step(
    "histograms with bounds, bucket counts, count, sum, min and max",
    () => {
      const [point] = byName.latency.Data.DataPoints;
      assert.deepEqual(
        { ...point, StartTime: 0, Time: 0 },
        {
          Attributes: [],
          StartTime: 0,
          Time: 0,
          Count: 1,
          Bounds: [0.1, 1],
          BucketCounts: [0, 1, 0],
          Min: 0.5,
          Max: 0.5,
          Sum: 0.5,
        },
      );
      assert.equal(byName.latency.Data.Temporality, "CumulativeTemporality");
    },
  );

  await t.step("gauges with their last value", () => {
    assert.equal(byName.temperature.Data.DataPoints[0].Value, 21.5);
    assert.equal(byName.temperature.Data.Temporality, undefined);
  });
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

Deno.test("StdoutMetricExporter.forceFlush() waits for writes under way", async () => {
  let release = () => {};
  const sink: TextSink = {
    unwritten: 0,
    write: () => new Promise((resolve) => release = resolve),
  };
  const exporter = new StdoutMetricExporter({ sink });
  exporter.export({ resource, scopeMetrics: [] }, () => {});
  let flushed = false;
  const flushing = exporter.forceFlush().then(() => flushed = true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(flushed, false);
  release();
  await flushing;
  assert.equal(flushed, true);
});

Deno.test("Stdout exporters sharing a sink wait once it holds MAX_UNWRITTEN_BYTES", async () => {
  // An output that takes nothing until it is told to.
  const pending: Array<() => void> = [];
  const sink = stdoutSink({
    output: {
      write: (bytes) =>
        new Promise((resolve) => pending.push(() => resolve(bytes.length))),
    },
  });
  const exporters = [
    new StdoutMetricExporter({ sink, format: "compact" }),
    new StdoutMetricExporter({ sink, format: "compact" }),
  ];
  // Each document holds a resource of 1 MiB; either exporter alone stays
  // under the bound, the two together do not.
  const big = resourceFromAttributes({ big: "x".repeat(1024 * 1024) });
  const exports = 20;
  let reported = 0;
  for (let i = 0; i < exports; i++) {
    exporters[i % 2].export(
      { resource: big, scopeMetrics: [] },
      () => reported++,
    );
  }
  const early = Math.floor(MAX_UNWRITTEN_BYTES / (1024 * 1024 + 100));
  assert.ok(exports / 2 < early && early < exports);
  assert.equal(reported, early);
  assert.ok(sink.unwritten > MAX_UNWRITTEN_BYTES - 1024 * 1024);

  while (reported < exports) {
    pending.splice(0).forEach((write) => write());
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(exporters.map((exporter) => exporter.forceFlush()));
  assert.equal(sink.unwritten, 0);
});

Deno.test("StdoutMetricExporter reuses a buffer only once the sink has written it", async () => {
  // The sink keeps each export's bytes, unread, until it is told to write.
  const held: Array<{ bytes: Uint8Array; release(): void }> = [];
  const sink: TextSink = {
    unwritten: 0,
    write: (bytes) => new Promise((release) => held.push({ bytes, release })),
  };
  const exporter = new StdoutMetricExporter({ sink, format: "compact" });
  const exportOf = (name: string) =>
    exporter.export({
      resource: resourceFromAttributes({ name }),
      scopeMetrics: [],
    }, () => {});
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  exportOf("first");
  exportOf("second");
  assert.notEqual(held[0].bytes.buffer, held[1].bytes.buffer);
  assert.match(text(held[0].bytes), /"first"/);
  assert.match(text(held[1].bytes), /"second"/);

  held[0].release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  exportOf("third");
  // The third export went into the first one's buffer, and the second's,
  // still unwritten, is intact.
  assert.equal(held[2].bytes.buffer, held[0].bytes.buffer);
  assert.match(text(held[2].bytes), /"third"/);
  assert.match(text(held[1].bytes), /"second"/);
  for (const { release } of held) release();
  await exporter.forceFlush();
});

Deno.test("render() escapes what JSON.stringify leaves raw", () => {
  assert.equal(
    render({ s: "\u007f\u0085\u2028" }, "compact"),
    '{"s":"\\u007f\\u0085\\u2028"}\n',
  );
  assert.equal(render({ a: 1 }, "pretty"), '{\n\t"a": 1\n}\n');
});

Deno.test("StdoutSpanExporter writes each time as formatTime() prints it", async () => {
  // Back and forth across seconds, so that the exporter's cached second
  // must follow.
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

Deno.test("formatTime() prints UTC with nine fractional digits", () => {
  assert.equal(formatTime([0, 5]), "1970-01-01T00:00:00.000000005Z");
  assert.equal(
    formatTime([1700000000, 999999999]),
    "2023-11-14T22:13:20.999999999Z",
  );
});

Deno.test("render() keeps any string intact and any control character escaped (property)", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary" }),
      fc.constantFrom<ConsoleFormat>("pretty", "compact"),
      (value, format) => {
        const text = render({ Body: { Type: "String", Value: value } }, format);
        assert.equal(JSON.parse(text).Body.Value, value);
        const layout = format === "pretty" ? /[\n\t]/g : /\n$/;
        for (const char of text.replace(layout, "")) {
          const code = char.charCodeAt(0);
          assert.ok(
            code >= 0x20 && (code < 0x7f || code > 0x9f) && code !== 0x2028 &&
              code !== 0x2029,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("stdoutSink() says once that stdout is gone, then drops and counts", async () => {
  const warnings: string[] = [];
  const written: string[] = [];
  let broken = false;
  const sink = stdoutSink({
    output: {
      write(bytes) {
        if (broken) {
          return Promise.reject(
            new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
          );
        }
        // Accept a part only, as a full pipe does: the sink writes the rest.
        const accepted = Math.min(bytes.length, 3);
        written.push(new TextDecoder().decode(bytes.subarray(0, accepted)));
        return Promise.resolve(accepted);
      },
    },
    warn: (message) => warnings.push(message),
  });
  const encode = (text: string) => new TextEncoder().encode(text);
  await sink.write(encode('{"a":1}\n'), 1);
  assert.equal(written.join(""), '{"a":1}\n');
  broken = true;
  await sink.write(encode("{}\n{}\n"), 2);
  await sink.write(encode("{}\n"), 1);
  assert.equal(sink.dropped, 3);
  assert.deepEqual(warnings, [
    "stdout does not accept telemetry any more (BrokenPipe: Broken pipe (os error 32)); console telemetry is dropped from now on, and counted",
  ]);
});

Deno.test("stdoutSink() writes the exports that wait for a write together, in order", async () => {
  const writes: string[] = [];
  const sink = stdoutSink({
    output: {
      async write(bytes) {
        writes.push(new TextDecoder().decode(bytes));
        await new Promise((resolve) => setTimeout(resolve, 5));
        return bytes.length;
      },
    },
  });
  const encode = (text: string) => new TextEncoder().encode(text);
  await Promise.all([
    sink.write(encode("a\n"), 1),
    sink.write(encode("b\n"), 1),
    sink.write(encode("c\n"), 1),
  ]);
  assert.deepEqual(writes, ["a\n", "b\nc\n"]);
});
