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
  diag,
  DiagConsoleLogger,
  DiagLogLevel,
  logs,
  metrics,
  propagation,
  type TextMapPropagator,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  defaultResource,
  detectResources,
  type Resource,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceNameEnvDetector,
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
  BatchSpanProcessor,
  type SpanExporter,
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
import { type Config, DEFAULT_CONFIG } from "./config.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  stdoutSink,
  StdoutSpanExporter,
} from "./stdout_exporter.ts";

/** Flushes and shuts down everything {@linkcode setupOTelSDK} set up. */
export type Shutdown = () => Promise<void>;

/** What {@linkcode setupOTelSDK} needs; every field has a default. */
export interface OTelOptions {
  /** Export intervals and console format; {@linkcode DEFAULT_CONFIG} by default. */
  config?: Omit<Config, "port">;
  /** Replaces the stdout span exporter (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
  /** Replaces the stdout metric exporter. */
  metricExporter?: PushMetricExporter;
  /** Replaces the stdout log record exporter. */
  logRecordExporter?: LogRecordExporter;
  /** Reports a setting that was ignored; one line on stderr by default. */
  warn?: (message: string) => void;
}

/**
 * Bootstraps the OpenTelemetry pipeline and registers it globally.
 *
 * The returned shutdown runs each cleanup step once, in the order of setup,
 * and reports every error together. It also unregisters the globals,
 * so that the API is a no-op again afterwards and setup can run anew.
 * If setup fails, what it had already set up is shut down before it throws.
 */
export async function setupOTelSDK(
  options: OTelOptions = {},
): Promise<Shutdown> {
  const config = options.config ?? DEFAULT_CONFIG;
  const warn = options.warn ?? warnOnStderr;
  const shutdownFuncs: Array<() => unknown> = [];
  let shutdownResult: Promise<void> | undefined;

  // SDK errors, such as a failed export, are reported through diag. Its
  // logger is removed last, so that it still reports what shutdown hits.
  const diagRegistered = diag.setLogger(new DiagConsoleLogger(), {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });

  // shutdown calls the cleanup functions registered via shutdownFuncs, in
  // order, each once. Calling it again returns the first call's result.
  function shutdown(): Promise<void> {
    shutdownResult ??= runAll(shutdownFuncs.splice(0)).finally(() => {
      if (diagRegistered) diag.disable();
    });
    return shutdownResult;
  }

  try {
    register(
      context.setGlobalContextManager(new AsyncLocalStorageContextManager()),
      "context manager",
    );
    shutdownFuncs.push(() => context.disable());

    register(propagation.setGlobalPropagator(newPropagator()), "propagator");
    shutdownFuncs.push(() => propagation.disable());

    const resource = newResource(warn);
    const sink = stdoutSink();
    const format = config.consoleFormat;

    const tracerProvider = newTracerProvider(
      resource,
      options.spanExporter ?? new StdoutSpanExporter({ sink, format }),
      config.bspScheduleDelayMillis,
    );
    shutdownFuncs.push(() => tracerProvider.shutdown());
    register(trace.setGlobalTracerProvider(tracerProvider), "tracer provider");
    shutdownFuncs.push(() => trace.disable());

    const meterProvider = newMeterProvider(
      resource,
      options.metricExporter ?? new StdoutMetricExporter({ sink, format }),
      config.metricExportIntervalMillis,
    );
    shutdownFuncs.push(() => meterProvider.shutdown());
    register(metrics.setGlobalMeterProvider(meterProvider), "meter provider");
    shutdownFuncs.push(() => metrics.disable());

    const loggerProvider = newLoggerProvider(
      resource,
      options.logRecordExporter ??
        new StdoutLogRecordExporter({ sink, format }),
      config.blrpScheduleDelayMillis,
    );
    shutdownFuncs.push(() => loggerProvider.shutdown());
    register(logs.setGlobalLoggerProvider(loggerProvider), "logger provider");
    shutdownFuncs.push(() => logs.disable());
  } catch (error) {
    try {
      await shutdown();
    } catch (cleanupError) {
      throw new AggregateError([error, cleanupError], messageOf(error));
    }
    throw error;
  }
  return shutdown;
}

// The API refuses to replace a global that is already set, and says so only
// through diag; Deno's built-in telemetry (OTEL_DENO=true) is the usual cause.
function register(registered: boolean, what: string): void {
  if (registered) return;
  throw new Error(
    `cannot register the OpenTelemetry ${what}: another SDK already owns the ` +
      "global API (Deno's built-in telemetry does when OTEL_DENO=true; unset it)",
  );
}

async function runAll(steps: Array<() => unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(
      errors,
      `OpenTelemetry shutdown failed: ${errors.map(messageOf).join("; ")}`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function warnOnStderr(message: string): void {
  console.error(`dice: ${message}`);
}

/** W3C Trace Context and W3C Baggage, to pass trace information across services. */
export function newPropagator(): TextMapPropagator {
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
}

/**
 * The SDK's default resource, this service's name, version and runtime, and
 * then `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`, each overriding
 * what comes before it. A malformed `OTEL_RESOURCE_ATTRIBUTES` is ignored
 * as a whole, as the specification says, and reported through `warn`.
 */
export function newResource(warn: (message: string) => void): Resource {
  const fromEnv = resourceAttributesEnvDetector.detect();
  const raw = Deno.env.get("OTEL_RESOURCE_ATTRIBUTES") ?? "";
  const hasEntries = raw.split(",").some((entry) => entry.trim() !== "");
  if (hasEntries && Object.keys(fromEnv.attributes ?? {}).length === 0) {
    warn(
      "OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value " +
        "pairs, with ',' and '=' inside keys and values percent-encoded and " +
        `each key and value at most 255 characters; got ${
          JSON.stringify(raw)
        }; ignoring it`,
    );
  }
  return defaultResource()
    .merge(resourceFromAttributes({
      [ATTR_SERVICE_NAME]: "dice",
      [ATTR_SERVICE_VERSION]: denoJson.version,
      // The SDK's process detector would say "nodejs" here: we run on Deno.
      [ATTR_PROCESS_RUNTIME_NAME]: "deno",
      [ATTR_PROCESS_RUNTIME_VERSION]: Deno.version.deno,
      [ATTR_PROCESS_RUNTIME_DESCRIPTION]: "Deno",
    }))
    .merge(detectResources({
      detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector],
    }));
}

/** A tracer provider that batches spans to `exporter`. */
export function newTracerProvider(
  resource: Resource,
  exporter: SpanExporter,
  scheduledDelayMillis: number,
): TracerProvider {
  return new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis }),
    ],
  });
}

/** A meter provider that pushes cumulative metrics to `exporter` periodically. */
export function newMeterProvider(
  resource: Resource,
  exporter: PushMetricExporter,
  exportIntervalMillis: number,
): MeterProvider {
  return new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis,
        // The SDK's default timeout, clamped: it may not exceed the interval.
        exportTimeoutMillis: Math.min(30_000, exportIntervalMillis),
      }),
    ],
  });
}

/** A logger provider that batches log records to `exporter`. */
export function newLoggerProvider(
  resource: Resource,
  exporter: LogRecordExporter,
  scheduledDelayMillis: number,
): LoggerProvider {
  return new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({ exporter, scheduledDelayMillis }),
    ],
  });
}
