/**
 * OpenTelemetry SDK setup: Go's `otel.go` for Deno.
 *
 * {@linkcode setupOTelSDK} registers a propagator and one provider per
 * signal, and returns the one function that flushes and shuts them all down.
 *
 * @module
 */

import {
  context,
  logs,
  type MeterProvider as APIMeterProvider,
  metrics,
  propagation,
  type TextMapPropagator,
  trace,
} from "@opentelemetry/api";
import {
  AsyncLocalStorageContextManager,
} from "@opentelemetry/context-async-hooks";
import { CompositePropagator } from "@opentelemetry/core";
import {
  defaultResource,
  type Resource,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
} from "@opentelemetry/sdk-logs";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_PROCESS_RUNTIME_DESCRIPTION,
  ATTR_PROCESS_RUNTIME_NAME,
  ATTR_PROCESS_RUNTIME_VERSION,
} from "@opentelemetry/semantic-conventions/incubating";
import denoJson from "./deno.json" with { type: "json" };
import {
  type Config,
  DEFAULT_CONFIG,
  type PropagatorName,
  type SignalConfig,
} from "./internal/config.ts";
import { installDiagLogger } from "./internal/diag_logger.ts";
import { messageOf } from "./internal/errors.ts";
import { LossReporter } from "./internal/losses.ts";
import { newShutdownFuncs, within } from "./internal/shutdown.ts";
import { logToStderr } from "./internal/stderr.ts";
import {
  newLogRecordExporters,
  newMetricExporters,
  newSpanExporters,
} from "./exporters/autoexport.ts";
import {
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "./propagation/mod.ts";
import {
  ChildSpanCounter,
  type StdoutSink,
  stdoutSink,
} from "./exporters/stdout/mod.ts";

/** Flushes and shuts down everything {@linkcode setupOTelSDK} set up. */
export type Shutdown = () => Promise<void>;

/** What {@linkcode setupOTelSDK} needs; every field has a default. */
export interface OTelOptions {
  /**
   * What to export where, as `readConfig` read it from the environment.
   *
   * @default {DEFAULT_CONFIG}
   */
  config?: Omit<Config, "port" | "shutdownTimeoutMillis">;
  /** Replaces the configured span exporters (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
  /** Replaces the configured metric exporters. */
  metricExporter?: PushMetricExporter;
  /** Replaces the configured log record exporters. */
  logRecordExporter?: LogRecordExporter;
  /**
   * Reports a setting that was ignored, or telemetry that was lost.
   *
   * @default {logToStderr} one `dice: ` line on stderr
   */
  warn?: (message: string) => void;
  /**
   * Where the console exporters write, shared so that their documents never
   * interleave; the caller can ask it what is still unwritten.
   *
   * @default {stdoutSink({ warn })}
   */
  sink?: StdoutSink;
}

/**
 * Bootstraps the OpenTelemetry pipeline and registers it globally.
 *
 * The returned shutdown runs each cleanup step once and reports every error
 * together. The three providers shut down concurrently, so that exporters
 * stuck on a dead collector cost one export timeout, not three. Whatever
 * the batch processors drop or fail to export is said through `warn`, with
 * the total at shutdown. Shutdown also unregisters the globals, so that the
 * API is a no-op again afterwards and setup can run anew. If setup fails,
 * what it had already set up is shut down before it throws.
 *
 * @example Set up, record, and flush everything at the end
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { setupOTelSDK } from "./otel.ts";
 *
 * const shutdown = await setupOTelSDK({ warn: console.error });
 * trace.getTracer("example").startSpan("work").end();
 * await shutdown(); // prints the span to stdout
 * ```
 */
export async function setupOTelSDK(
  options: OTelOptions = {},
): Promise<Shutdown> {
  const config = options.config ?? DEFAULT_CONFIG;
  const warn = options.warn ?? logToStderr;
  const { add, defer, shutdown } = newShutdownFuncs();
  // Deferred first, so that it undoes last: SDK errors during the
  // shutdown are still reported.
  defer(installDiagLogger());
  const sink = options.sink ?? stdoutSink({ warn });
  defer(() => reportDropped(sink, warn));

  try {
    const contextManager = new AsyncLocalStorageContextManager();
    defer(register(context, context.setGlobalContextManager(contextManager)));
    const propagator = newPropagator(config.propagators);
    defer(register(propagation, propagation.setGlobalPropagator(propagator)));
    // OTEL_SDK_DISABLED: context still propagates, nothing is recorded.
    if (config.sdkDisabled) return shutdown;

    const resource = newResource(config.resourceAttributes);
    const stdout = { sink, format: config.consoleFormat };
    const meterProvider = newMeterProvider(
      resource,
      config,
      options.metricExporter
        ? [options.metricExporter]
        : newMetricExporters(config.metrics, stdout),
    );
    // Beside the others, not after them: against a collector that never
    // answers, the whole shutdown then takes one export timeout.
    add(shutdownWithin(meterProvider, config.metrics));
    defer(register(metrics, metrics.setGlobalMeterProvider(meterProvider)));
    // The processors count what they lose in it: said on stderr, and in
    // the otel.sdk.* metrics with DICE_SDK_METRICS.
    const selfObs = config.sdkMetrics ? meterProvider : undefined;
    const losses = new LossReporter({ warn, selfObservability: selfObs });
    defer(() => losses.flush());

    const tracerProvider = newTracerProvider(
      resource,
      config,
      options.spanExporter
        ? [options.spanExporter]
        : newSpanExporters(config.traces, stdout, selfObs),
      losses.meterProvider,
    );
    add(shutdownWithin(tracerProvider, config.traces));
    defer(register(trace, trace.setGlobalTracerProvider(tracerProvider)));

    const loggerProvider = newLoggerProvider(
      resource,
      config,
      options.logRecordExporter
        ? [options.logRecordExporter]
        : newLogRecordExporters(config.logs, stdout, selfObs),
      losses.meterProvider,
    );
    add(shutdownWithin(loggerProvider, config.logs));
    defer(register(logs, logs.setGlobalLoggerProvider(loggerProvider)));
  } catch (error) {
    await shutdown().catch((cleanupError) => {
      throw new AggregateError([error, cleanupError], messageOf(error));
    });
    throw error;
  }
  return shutdown;
}

// The API refuses to replace a global that is already set, and says so only
// through diag; Deno's built-in telemetry (OTEL_DENO=true) is the usual cause.
// Returns the undo, deferred so that the globals go once the providers have
// flushed, as Go's shutdownFuncs run in order.
function register(api: { disable(): void }, registered: boolean): () => void {
  if (!registered) {
    throw new Error(
      `cannot register the OpenTelemetry ${GLOBALS.get(api)}: another SDK ` +
        "already owns the global API (Deno's built-in telemetry does when " +
        "OTEL_DENO=true; unset it)",
    );
  }
  return () => api.disable();
}

const GLOBALS = new Map<unknown, string>([
  [context, "context manager"],
  [propagation, "propagator"],
  [metrics, "meter provider"],
  [trace, "tracer provider"],
  [logs, "logger provider"],
]);

// A batch processor waits for the export in flight, then exports what is
// left: against a collector that never answers, two OTLP timeouts or more.
// One is what a shutdown promises; what is not out by then is lost anyway.
const SHUTDOWN_MARGIN_MILLIS = 500;

function shutdownWithin(
  provider: { shutdown(): Promise<void> },
  signal: SignalConfig,
): () => Promise<void> {
  const budget = signal.exporters.includes("otlp")
    ? signal.timeoutMillis + SHUTDOWN_MARGIN_MILLIS
    : undefined;
  return within(() => provider.shutdown(), budget, providerName(provider));
}

function providerName(provider: object): string {
  if (provider instanceof TracerProvider) return "the tracer provider";
  if (provider instanceof MeterProvider) return "the meter provider";
  return "the logger provider";
}

function reportDropped(sink: StdoutSink, warn: (message: string) => void) {
  if (sink.dropped === 0) return;
  warn(`${sink.dropped} telemetry documents could not be written to stdout`);
}

const PROPAGATORS: Record<PropagatorName, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
};

/**
 * The propagators `OTEL_PROPAGATORS` names, in order, to pass trace
 * information across services: W3C Trace Context and W3C Baggage by default.
 */
export function newPropagator(
  names: readonly PropagatorName[] = DEFAULT_CONFIG.propagators,
): TextMapPropagator {
  return new CompositePropagator({
    propagators: names.map((name) => PROPAGATORS[name]()),
  });
}

/** The sampler `OTEL_TRACES_SAMPLER` names, with its ratio argument. */
export function newSampler({ name, ratio }: Config["sampler"]): Sampler {
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(ratio),
      });
  }
}

/**
 * The SDK's default resource, this service's name, version and runtime, and
 * then `attributes` (from `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`,
 * as `readConfig` read them) over them.
 */
export function newResource(
  attributes: Readonly<Record<string, string>> = {},
): Resource {
  return defaultResource()
    .merge(resourceFromAttributes({
      [ATTR_SERVICE_NAME]: "dice",
      [ATTR_SERVICE_VERSION]: denoJson.version,
      // The SDK's process detector would say "nodejs" here: we run on Deno.
      [ATTR_PROCESS_RUNTIME_NAME]: "deno",
      [ATTR_PROCESS_RUNTIME_VERSION]: Deno.version.deno,
      [ATTR_PROCESS_RUNTIME_DESCRIPTION]: "Deno",
    }))
    .merge(resourceFromAttributes(attributes));
}

/**
 * A tracer provider that samples and limits spans as configured, counts each
 * span's children (Go's `ChildSpanCount`), and batches them to each exporter; its processors count what they export and drop in
 * `selfObs`.
 */
export function newTracerProvider(
  resource: Resource,
  config: Pick<Config, "sampler" | "bsp" | "spanLimits">,
  exporters: SpanExporter[],
  selfObs?: APIMeterProvider,
): TracerProvider {
  return new TracerProvider({
    resource,
    sampler: newSampler(config.sampler),
    spanLimits: config.spanLimits,
    spanProcessors: [
      // First, so that a parent has counted its children when it ends.
      new ChildSpanCounter(),
      ...exporters.map((exporter) =>
        new BatchSpanProcessor({
          exporter,
          ...config.bsp,
          selfObsMeterProvider: selfObs,
        })
      ),
    ],
  });
}

/** A meter provider that pushes its metrics to each exporter periodically. */
export function newMeterProvider(
  resource: Resource,
  config: Pick<
    Config,
    "metricExportIntervalMillis" | "metricExportTimeoutMillis"
  >,
  exporters: PushMetricExporter[],
): MeterProvider {
  return new MeterProvider({
    resource,
    readers: exporters.map((exporter) =>
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: config.metricExportIntervalMillis,
        exportTimeoutMillis: config.metricExportTimeoutMillis,
      })
    ),
  });
}

/**
 * A logger provider that limits log records as configured and batches them
 * to each exporter; its processors count what they export and drop in
 * `selfObs`.
 */
export function newLoggerProvider(
  resource: Resource,
  config: Pick<Config, "blrp" | "logRecordLimits">,
  exporters: LogRecordExporter[],
  selfObs?: APIMeterProvider,
): LoggerProvider {
  return new LoggerProvider({
    resource,
    logRecordLimits: config.logRecordLimits,
    processors: exporters.map((exporter) =>
      new BatchLogRecordProcessor({
        exporter,
        ...config.blrp,
        selfObsMeterProvider: selfObs,
      })
    ),
  });
}
