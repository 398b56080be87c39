import assert from "node:assert/strict";
import {
  OTLPTraceExporter as OTLPJsonTraceExporter,
} from "@opentelemetry/exporter-trace-otlp-http";
import {
  OTLPTraceExporter as OTLPProtoTraceExporter,
} from "@opentelemetry/exporter-trace-otlp-proto";
import { DEFAULT_CONFIG } from "../internal/config.ts";
import {
  newLogRecordExporters,
  newMetricExporters,
  newSpanExporters,
} from "./autoexport.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout/mod.ts";

Deno.test("newSpanExporters() makes what OTEL_TRACES_EXPORTER names", () => {
  const stdout = {};
  const [console_, proto] = newSpanExporters(
    { ...DEFAULT_CONFIG.traces, exporters: ["console", "otlp"] },
    stdout,
  );
  assert.ok(console_ instanceof StdoutSpanExporter);
  assert.ok(proto instanceof OTLPProtoTraceExporter);
  const [json] = newSpanExporters(
    { ...DEFAULT_CONFIG.traces, exporters: ["otlp"], protocol: "http/json" },
    stdout,
  );
  assert.ok(json instanceof OTLPJsonTraceExporter);
  assert.deepEqual(
    newSpanExporters({ ...DEFAULT_CONFIG.traces, exporters: [] }, stdout),
    [],
  );
  assert.ok(
    newMetricExporters(DEFAULT_CONFIG.metrics, stdout)[0] instanceof
      StdoutMetricExporter,
  );
  assert.ok(
    newLogRecordExporters(DEFAULT_CONFIG.logs, stdout)[0] instanceof
      StdoutLogRecordExporter,
  );
});

Deno.test("newSpanExporters() refuses an OTLP endpoint the permissions forbid", () => {
  assert.throws(
    () =>
      newSpanExporters({
        exporters: ["otlp"],
        protocol: "http/protobuf",
        endpoint: "http://collector.invalid:4318/v1/traces",
      }, {}),
    /^Error: the OTLP traces endpoint collector\.invalid:4318 is not in dice's network permissions; add "collector\.invalid:4318" to permissions\.default\.net in deno\.json, or run deno run -P --allow-net=collector\.invalid:4318 main\.ts$/,
  );
});
