/**
 * Test helpers for the libraries: an SDK that exports to memory, registered
 * on the global API without the service's own setup, and the parsing of
 * what the stdout exporters print.
 *
 * @module
 */

import { context, logs, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator } from "@opentelemetry/core";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "../propagation/mod.ts";

// The SDK's in-memory span and log exporters forget everything on shutdown;
// these keep it, so a test can shut the SDK down (which flushes) and then read.
class KeepingSpanExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

class KeepingLogRecordExporter extends InMemoryLogRecordExporter {
  override shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

/** Exporters that keep everything in memory, one per signal. */
export interface TestExporters {
  /** Keeps every span, also after shutdown. */
  spanExporter: InMemorySpanExporter;
  /** Keeps every log record, also after shutdown. */
  logRecordExporter: InMemoryLogRecordExporter;
  /** Keeps every collection of cumulative metrics. */
  metricExporter: InMemoryMetricExporter;
}

/** Makes one in-memory exporter per signal. */
export function newTestExporters(): TestExporters {
  return {
    spanExporter: new KeepingSpanExporter(),
    logRecordExporter: new KeepingLogRecordExporter(),
    metricExporter: new InMemoryMetricExporter(
      AggregationTemporality.CUMULATIVE,
    ),
  };
}

/** An SDK registered globally, exporting to memory. */
export interface TestSDK {
  /** Flushes and shuts down the SDK, then unregisters it. */
  shutdown(): Promise<void>;
  /** Every span exported so far. */
  spans(): ReadableSpan[];
  /** Every log record exported so far. */
  logRecords(): ReadableLogRecord[];
  /** The latest collection of metrics, if any. */
  latestMetrics(): ResourceMetrics | undefined;
  /** The metric named `name` in the latest collection, if any. */
  metric(name: string): MetricData | undefined;
  /** Collects and exports the metrics now. */
  collectMetrics(): Promise<void>;
  /** What setup reported through `warn`. */
  warnings: string[];
}

/** The {@linkcode TestSDK} view of `exporters`, once an SDK is set up with them. */
export function testSDKOf(
  exporters: TestExporters,
  shutdown: () => Promise<void>,
  warnings: string[] = [],
): TestSDK {
  const latestMetrics = () => exporters.metricExporter.getMetrics().at(-1);
  return {
    shutdown,
    spans: () => exporters.spanExporter.getFinishedSpans(),
    logRecords: () => exporters.logRecordExporter.getFinishedLogRecords(),
    latestMetrics,
    metric(name) {
      return latestMetrics()?.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === name);
    },
    async collectMetrics() {
      await (metrics.getMeterProvider() as MeterProvider).forceFlush();
    },
    warnings,
  };
}

/**
 * Registers the SDK on the global API with in-memory exporters and the W3C
 * propagators, for the tests of a library that records through the API.
 */
export function setupInMemorySDK(): TestSDK {
  const exporters = newTestExporters();
  const tracerProvider = new TracerProvider({
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: exporters.spanExporter }),
    ],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: exporters.metricExporter,
        exportIntervalMillis: 3_600_000,
      }),
    ],
  });
  const loggerProvider = new LoggerProvider({
    processors: [
      new SimpleLogRecordProcessor({ exporter: exporters.logRecordExporter }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [
        new W3CTraceContextPropagator(),
        new W3CBaggagePropagator(),
      ],
    }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  return testSDKOf(exporters, async () => {
    await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
    await meterProvider.shutdown();
    for (const api of [trace, metrics, logs, propagation, context]) {
      api.disable();
    }
  });
}

/** The connection details a handler sees for a client on 127.0.0.1:50000. */
export const TEST_INFO: Deno.ServeHandlerInfo<Deno.NetAddr> = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
  completed: Promise.resolve(),
};

/** Finds the one span named `name`; throws when there is none or several. */
export function spanNamed(
  spans: readonly ReadableSpan[],
  name: string,
): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one span named ${
        JSON.stringify(name)
      }, found ${found.length} among ${
        JSON.stringify(spans.map((span) => span.name))
      }`,
    );
  }
  return found[0];
}

/**
 * A parsed JSON document. Tests read it field by field and assert on what
 * they find, so a static type would only restate the assertions.
 */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** Splits the stdout exporters' output, pretty or compact, into documents. */
export function parseDocuments(text: string): Json[] {
  // A document starts with "{" at the start of a line; nested objects are indented.
  return text.split(/\n(?=\{)/).filter((doc) => doc.trim()).map((doc) =>
    JSON.parse(doc)
  );
}
