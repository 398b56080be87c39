import assert from "node:assert/strict";
import { ExportResultCode } from "@opentelemetry/core";
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
} from "@opentelemetry/sdk-logs";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { LossReporter } from "./losses.ts";

// An exporter that holds every batch until released, so the queue fills.
function stalledExporter(): SpanExporter & { release(): void } {
  const waiting: Array<() => void> = [];
  return {
    export(_spans, resultCallback) {
      waiting.push(() => resultCallback({ code: ExportResultCode.SUCCESS }));
    },
    release: () => waiting.splice(0).forEach((done) => done()),
    shutdown: () => Promise.resolve(),
  };
}

function fixture(selfObservability?: MeterProvider) {
  const lines: string[] = [];
  let clock = 0;
  const reporter = new LossReporter({
    warn: (line) => lines.push(line),
    selfObservability,
    now: () => clock,
  });
  return { lines, reporter, tick: (ms: number) => clock += ms };
}

Deno.test("LossReporter says a full span queue at once, then once per window", async () => {
  const { lines, reporter, tick } = fixture();
  const exporter = stalledExporter();
  const provider = new TracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 2,
        maxExportBatchSize: 2,
        scheduledDelayMillis: 3_600_000,
        selfObsMeterProvider: reporter,
      }),
    ],
  });
  const tracer = provider.getTracer("test");
  // Two spans go out in a batch that never returns, two wait in the
  // queue, and four find it full.
  for (let i = 0; i < 8; i++) tracer.startSpan("s").end();
  tick(10_000);
  tracer.startSpan("s").end();
  const full =
    "the batch queue was full (raise OTEL_BSP_MAX_QUEUE_SIZE, or export faster)";
  assert.deepEqual(lines, [
    `1 span was lost: ${full}`,
    `4 spans were lost: ${full}`,
  ]);
  tracer.startSpan("s").end();
  reporter.flush();
  assert.deepEqual(lines.slice(2), [`1 span was lost: ${full}`]);
  exporter.release();
  await provider.shutdown();
});

Deno.test("LossReporter says log records that failed to export, and passes every count on", async () => {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const selfObservability = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: metrics })],
  });
  const { lines, reporter } = fixture(selfObservability);
  const exporter = new InMemoryLogRecordExporter();
  exporter.export = (_records, resultCallback) =>
    resultCallback({
      code: ExportResultCode.FAILED,
      error: new TypeError("connection refused"),
    });
  const provider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter,
        selfObsMeterProvider: reporter,
      }),
    ],
  });
  provider.getLogger("test").emit({ body: "a" });
  provider.getLogger("test").emit({ body: "b" });
  await provider.forceFlush();
  assert.deepEqual(lines, [
    "2 log records were lost: the export failed (TypeError)",
  ]);
  await selfObservability.forceFlush();
  const processed = metrics.getMetrics().at(-1)!.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) =>
      metric.descriptor.name === "otel.sdk.processor.log.processed"
    )!;
  assert.equal(processed.dataPoints[0].value, 2);
  assert.equal(processed.dataPoints[0].attributes["error.type"], "TypeError");
  await provider.shutdown();
  await selfObservability.shutdown();
});

Deno.test("LossReporter says at shutdown what it held back, by signal and cause", () => {
  const { lines, reporter } = fixture();
  const meter = reporter.getMeter("test");
  const spans = meter.createCounter("otel.sdk.processor.span.processed");
  spans.add(3, { "error.type": "queue_full" });
  spans.add(2, { "error.type": "queue_full" });
  meter.createCounter("otel.sdk.processor.log.processed").add(5);
  reporter.flush();
  const full =
    "the batch queue was full (raise OTEL_BSP_MAX_QUEUE_SIZE, or export faster)";
  assert.deepEqual(lines, [
    `3 spans were lost: ${full}`,
    `2 spans were lost: ${full}`,
  ]);
});

Deno.test("LossReporter says nothing when nothing was lost", () => {
  const { lines, reporter } = fixture();
  reporter.flush();
  assert.deepEqual(lines, []);
});
