import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AnyValue,
  type LogRecord,
  ROOT_CONTEXT,
  SeverityNumber,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { EVENT_EXCEPTION } from "@opentelemetry/semantic-conventions";
import { parseDocuments } from "../../internal/testing.ts";
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
  type ConsoleFormat,
  logRecordDocument,
  render,
  StdoutLogRecordExporter,
  type TextSink,
} from "./mod.ts";

// A logger provider that exports each record, as it is emitted, to a
// StdoutLogRecordExporter writing to `sink`.
function stdoutLoggerProvider(sink: TextSink): LoggerProvider {
  return new LoggerProvider({
    resource,
    processors: [
      new SimpleLogRecordProcessor({
        exporter: new StdoutLogRecordExporter({ sink }),
      }),
    ],
  });
}

Deno.test("StdoutLogRecordExporter prints the fields of Go's stdoutlog", async () => {
  const sink = memorySink();
  const provider = stdoutLoggerProvider(sink);
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
    Type: "STRING",
    Value: `${HOSTILE} is rolling the dice`,
  });
  // In the order they were set; a map's entries sorted by key, as Go's
  // attribute.MapValue keeps them.
  assert.deepEqual(record.Attributes, [
    { Key: "result", Value: { Type: "INT64", Value: 4 } },
    {
      Key: "nested",
      Value: {
        Type: "MAP",
        Value: [
          { Key: "bytes", Value: { Type: "BYTESLICE", Value: "aGk=" } },
          {
            Key: "list",
            Value: {
              Type: "SLICE",
              Value: [{ Type: "INT64", Value: 1 }, {
                Type: "STRING",
                Value: "x",
              }],
            },
          },
        ],
      },
    },
    { Key: "none", Value: { Type: "EMPTY", Value: null } },
  ]);
  assert.equal(record.TraceID, "00000000000000000000000000000000");
  assert.equal(record.SpanID, "0000000000000000");
  assert.equal(record.TraceFlags, "00");
  assert.equal(record.Resource.length, 2);
  assert.deepEqual(record.Scope, {
    Name: "test-scope",
    Version: "",
    SchemaURL: "",
    Attributes: {},
  });
  assert.equal(record.DroppedAttributes, 0);
});

Deno.test("StdoutLogRecordExporter omits an empty EventName, as Go's stdoutlog does", async (t) => {
  const sink = memorySink();
  const provider = stdoutLoggerProvider(sink);
  const logger = provider.getLogger("test-scope");
  logger.emit({ body: "no event name" });
  logger.emit({ body: "an empty event name", eventName: "" });
  logger.emit({ body: "an event", eventName: EVENT_EXCEPTION });
  await provider.shutdown();
  const [unset, empty, named] = parseDocuments(sink.text);

  await t.step("left out when there is none", () => {
    assert.ok(!("EventName" in unset));
  });

  await t.step("left out when empty", () => {
    assert.ok(!("EventName" in empty));
  });

  await t.step(
    "printed when set, between ObservedTimestamp and Severity",
    () => {
      assert.equal(named.EventName, EVENT_EXCEPTION);
      const fields = Object.keys(named);
      assert.deepEqual(
        fields.slice(
          fields.indexOf("ObservedTimestamp"),
          fields.indexOf("Severity") + 1,
        ),
        ["ObservedTimestamp", "EventName", "Severity"],
      );
    },
  );
});

// The log records that `emit` makes, as the SDK hands them to an exporter.
async function emitted(
  emit: (emit: (record: LogRecord) => void) => void,
): Promise<ReadableLogRecord[]> {
  const records = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: records })],
  });
  const logger = provider.getLogger("test-scope", "1.2.3");
  emit((record) => logger.emit(record));
  await provider.forceFlush();
  return records.getFinishedLogRecords();
}

const inSpan = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
});

// Log records from the SDK that take every path of the exporter.
function emitAwkward(emit: (record: LogRecord) => void): void {
  emit({});
  emit({ eventName: "" });
  emit({ body: HOSTILE, attributes: { list: [1, "x"], n: 2.5 } });
  emit({ body: { nested: { deep: [true] } }, eventName: "e" });
  emit({
    timestamp: [1700000000, 1],
    severityNumber: SeverityNumber.ERROR,
    severityText: HOSTILE,
    eventName: HOSTILE,
    body: [new Uint8Array([0, 255]), null, Number.NaN, { [HOSTILE]: HOSTILE }],
    attributes: { [HOSTILE]: { list: [1, "x"], none: null } },
    context: inSpan,
  });
}

async function exportEach(
  records: readonly ReadableLogRecord[],
  format: ConsoleFormat,
): Promise<Uint8Array[]> {
  const sink = bytesSink();
  const exporter = new StdoutLogRecordExporter({ sink, format });
  for (const record of records) {
    await new Promise((done) => exporter.export([record], done));
  }
  return sink.exports;
}

Deno.test("StdoutLogRecordExporter writes each record byte for byte as render(logRecordDocument(record)) does", async (t) => {
  const records = await emitted(emitAwkward);
  for (const format of FORMATS) {
    await t.step(format, async () => {
      const exports = await exportEach(records, format);
      records.forEach((record, i) =>
        assertBytesOf(exports[i], render(logRecordDocument(record), format))
      );
    });
  }
});

// Any log value: scalars, bytes, and slices and maps of them, nested.
const { anyValue } = fc.letrec<{ anyValue: AnyValue }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: "small" },
    awkwardString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 4 }),
    fc.array(tie("anyValue"), { maxLength: 3 }),
    fc.dictionary(awkwardString, tie("anyValue"), { maxKeys: 3 }),
  ),
}));

const anyRecordFields = fc.record({
  hrTime: anyTime,
  eventName: fc.option(awkwardString, { nil: undefined }),
  severityNumber: fc.option(fc.integer({ min: 0, max: 24 }), {
    nil: undefined,
  }),
  severityText: fc.option(awkwardString, { nil: undefined }),
  body: anyValue,
  attributes: fc.dictionary(awkwardString, anyValue, { maxKeys: 5 }),
  droppedAttributesCount: fc.nat(),
}) as fc.Arbitrary<Partial<ReadableLogRecord>>;

Deno.test("StdoutLogRecordExporter writes any record byte for byte as render(logRecordDocument(record)) does (property)", async () => {
  const [base] = await emitted((emit) => emit({ context: inSpan }));
  assertWritesAsDocuments(
    anyRecordFields.map((fields) => ({ ...readable(base), ...fields })),
    (options) => new StdoutLogRecordExporter(options),
    logRecordDocument,
  );
});

// The fields of `record` as a plain object, whatever the SDK's class does.
function readable(record: ReadableLogRecord): ReadableLogRecord {
  return {
    hrTime: record.hrTime,
    hrTimeObserved: record.hrTimeObserved,
    spanContext: record.spanContext,
    severityText: record.severityText,
    severityNumber: record.severityNumber,
    body: record.body,
    eventName: record.eventName,
    resource: record.resource,
    instrumentationScope: record.instrumentationScope,
    attributes: record.attributes,
    droppedAttributesCount: record.droppedAttributesCount,
  };
}

// The record of opentelemetry-go's exporters/stdout/stdoutlog v0.21.0
// exporter_test.go (getRecord), emitted at a whole second and observed at
// a fraction of three digits.
const GO_RECORD: ReadableLogRecord = {
  hrTime: [1700000031, 0],
  hrTimeObserved: [1700000031, 96_000_000],
  eventName: "testing.event",
  severityNumber: SeverityNumber.INFO,
  severityText: "INFO",
  body: "test",
  attributes: {
    key: "value",
    key2: "value",
    key3: "value",
    key4: "value",
    key5: "value",
    bool: true,
  },
  spanContext: {
    traceId: "0102030405060708090a0b0c0d0e0f10",
    spanId: "0102030405060708",
    traceFlags: TraceFlags.SAMPLED,
  },
  resource: resourceFromAttributes({ foo: "bar" }),
  instrumentationScope: {
    name: "name",
    version: "version",
    schemaUrl: "https://example.com/custom-schema",
  },
  droppedAttributesCount: 10,
};

Deno.test("StdoutLogRecordExporter prints a record as Go's stdoutlog v0.21 test expects, byte for byte", async (t) => {
  // Go's expected JSON, pretty and compact, with these times as
  // encoding/json prints them.
  for (
    const [format, file] of [["pretty", "stdoutlog_record.golden"], [
      "compact",
      "stdoutlog_record_compact.golden",
    ]] as const
  ) {
    await t.step(format, async () => {
      const expected = await Deno.readTextFile(
        new URL(`./testdata/${file}`, import.meta.url),
      );
      const [written] = await exportEach([GO_RECORD], format);
      assertBytesOf(written, expected);
    });
  }
});

Deno.test("StdoutLogRecordExporter prints each value with Go's attribute.Type name, as stdoutlog v0.21 does", () => {
  const sink = bytesSink();
  const exporter = new StdoutLogRecordExporter({ sink, format: "compact" });
  const values: Record<string, AnyValue> = {
    empty: null,
    undefined: undefined,
    bool: false,
    int: -3,
    float: 0.25,
    string: "s",
    bytes: new Uint8Array([0, 255]),
    noBytes: new Uint8Array(),
    slice: ["a", 1, [true]],
    emptySlice: [],
    map: { z: 1, a: { y: "", b: null } },
    emptyMap: {},
  };
  exporter.export(
    [{ ...GO_RECORD, body: values, attributes: values }],
    () => {},
  );
  const [record] = parseDocuments(new TextDecoder().decode(sink.exports[0]));
  // Every field of an attribute.Value, as encoding/json prints it; a map's
  // entries sorted by key, as attribute.MapValue keeps them.
  const expected = [
    { Key: "empty", Value: { Type: "EMPTY", Value: null } },
    { Key: "undefined", Value: { Type: "EMPTY", Value: null } },
    { Key: "bool", Value: { Type: "BOOL", Value: false } },
    { Key: "int", Value: { Type: "INT64", Value: -3 } },
    { Key: "float", Value: { Type: "FLOAT64", Value: 0.25 } },
    { Key: "string", Value: { Type: "STRING", Value: "s" } },
    { Key: "bytes", Value: { Type: "BYTESLICE", Value: "AP8=" } },
    { Key: "noBytes", Value: { Type: "BYTESLICE", Value: "" } },
    {
      Key: "slice",
      Value: {
        Type: "SLICE",
        Value: [
          { Type: "STRING", Value: "a" },
          { Type: "INT64", Value: 1 },
          { Type: "SLICE", Value: [{ Type: "BOOL", Value: true }] },
        ],
      },
    },
    { Key: "emptySlice", Value: { Type: "SLICE", Value: [] } },
    {
      Key: "map",
      Value: {
        Type: "MAP",
        Value: [
          {
            Key: "a",
            Value: {
              Type: "MAP",
              Value: [
                { Key: "b", Value: { Type: "EMPTY", Value: null } },
                { Key: "y", Value: { Type: "STRING", Value: "" } },
              ],
            },
          },
          { Key: "z", Value: { Type: "INT64", Value: 1 } },
        ],
      },
    },
    { Key: "emptyMap", Value: { Type: "MAP", Value: [] } },
  ];
  assert.deepEqual(record.Attributes, expected);
  assert.deepEqual(record.Body, {
    Type: "MAP",
    Value: [...expected].sort((a, b) => a.Key < b.Key ? -1 : 1),
  });
});
