import { newHTTPHandler } from "../main.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
  type TextSink,
} from "../exporters/stdout/mod.ts";
import { setupTestSDK, TEST_INFO } from "../testing.ts";

// What 256 requests to the service leave: 512 spans (the default batch
// size), 256 log records and a collection of metrics, kept to be rendered
// again and again.
const sdk = await setupTestSDK();
const handler = newHTTPHandler();
for (let i = 0; i < 256; i++) {
  const request = new Request(`http://localhost:8080/rolldice/player${i}`, {
    headers: { "user-agent": "bench" },
  });
  await (await handler(request, TEST_INFO)).text();
}
await sdk.collectMetrics();
const collection = sdk.latestMetrics()!;
await sdk.shutdown();
const spans = sdk.spans();
const logRecords = sdk.logRecords();

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
    await new Promise((resolve) => metricExporter.export(collection, resolve));
  },
);
