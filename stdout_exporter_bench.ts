import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { newHTTPHandler } from "./main.ts";
import { setupOTelSDK } from "./otel.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
  type TextSink,
} from "./stdout_exporter.ts";
import { TEST_INFO } from "./testing.ts";

// What 256 requests to the service leave: 512 spans (the default batch
// size), 256 log records and a collection of metrics, kept to be rendered
// again and again.
const spans: ReadableSpan[] = [];
const logRecords: ReadableLogRecord[] = [];
let collection: ResourceMetrics | undefined;
const success = { code: ExportResultCode.SUCCESS };
const keep = <T>(list: T[]) => ({
  export(batch: T[], done: (result: typeof success) => void) {
    list.push(...batch);
    done(success);
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});
const shutdown = await setupOTelSDK({
  spanExporter: keep(spans),
  logRecordExporter: keep(logRecords),
  metricExporter: {
    export(metrics, done) {
      collection = metrics;
      done(success);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  },
  warn: () => {},
});
const handler = newHTTPHandler();
for (let i = 0; i < 256; i++) {
  const request = new Request(`http://localhost:8080/rolldice/player${i}`, {
    headers: { "user-agent": "bench" },
  });
  await (await handler(request, TEST_INFO)).text();
}
await shutdown();

const discard: TextSink = { unwritten: 0, write: () => Promise.resolve() };

for (const format of ["pretty", "compact"] as const) {
  const exporter = new StdoutSpanExporter({ sink: discard, format });
  Deno.bench(`StdoutSpanExporter renders 512 spans of the service, ${format}`, {
    group: "spans",
  }, async () => {
    await new Promise((resolve) => exporter.export(spans, resolve));
  });
}

const logExporter = new StdoutLogRecordExporter({ sink: discard });
Deno.bench(
  "StdoutLogRecordExporter renders 256 log records of the service, pretty",
  async () => {
    await new Promise((resolve) => logExporter.export(logRecords, resolve));
  },
);

const metricExporter = new StdoutMetricExporter({ sink: discard });
Deno.bench(
  "StdoutMetricExporter renders a collection of the service's metrics, pretty",
  async () => {
    await new Promise((resolve) => metricExporter.export(collection!, resolve));
  },
);
