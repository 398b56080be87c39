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
  loggingErrorHandler,
  setGlobalErrorHandler,
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
  type EnvLookup,
  type PropagatorName,
} from "./config.ts";
import { RateLimitedDiagLogger } from "./diag_logger.ts";
import {
  newLogRecordExporters,
  newMetricExporters,
  newSpanExporters,
} from "./exporters.ts";
import {
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "./propagators.ts";
import { stdoutSink } from "./stdout_exporter.ts";

/** Flushes and shuts down everything {@linkcode setupOTelSDK} set up. */
export type Shutdown = () => Promise<void>;

/** What {@linkcode setupOTelSDK} needs; every field has a default. */
export interface OTelOptions {
  /** What to export where; {@linkcode DEFAULT_CONFIG} by default. */
  config?: Omit<Config, "port" | "shutdownTimeoutMillis">;
  /** Where the OTLP exporters' endpoints are looked up; `Deno.env.get` by default. */
  env?: EnvLookup;
  /** Replaces the configured span exporters (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
  /** Replaces the configured metric exporters. */
  metricExporter?: PushMetricExporter;
  /** Replaces the configured log record exporters. */
  logRecordExporter?: LogRecordExporter;
  /** Reports a setting that was ignored; one line on stderr by default. */
  warn?: (message: string) => void;
}

/**
 * Bootstraps the OpenTelemetry pipeline and registers it globally.
 *
 * The returned shutdown runs each cleanup step once and reports every error
 * together. The span and log steps run concurrently, so that exporters
 * stuck on a dead collector cost one export timeout, not two; the meter
 * provider shuts down after them, so that its last collection counts what
 * they flushed. Shutdown also unregisters the globals, so that the API is a
 * no-op again afterwards and setup can run anew. If setup fails, what it had
 * already set up is shut down before it throws.
 */
export async function setupOTelSDK(
  options: OTelOptions = {},
): Promise<Shutdown> {
  const config = options.config ?? DEFAULT_CONFIG;
  const warn = options.warn ?? warnOnStderr;
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const shutdownFuncs: Array<() => unknown> = [];
  // Steps that run once all of shutdownFuncs have: the meter provider's, so
  // that its last collection counts what the processors flushed.
  const lastFuncs: Array<() => unknown> = [];
  let shutdownResult: Promise<void> | undefined;

  // SDK errors, such as a failed export, are reported through diag, at a
  // bounded rate. Its logger is removed last, so that it still reports what
  // shutdown hits.
  const diagLogger = new RateLimitedDiagLogger();
  const diagRegistered = diag.setLogger(diagLogger, {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
  // The SDK's own handler prints an error as JSON with its stack; the
  // message says what went wrong ("connect ECONNREFUSED 127.0.0.1:4318").
  setGlobalErrorHandler((error) => diag.error(describeExportError(error)));

  // The three stdout exporters share one sink, so that their documents
  // never interleave; it reports a closed stdout through warn, as setup
  // reports everything else.
  const sink = stdoutSink({ warn });

  // shutdown calls the cleanup functions registered via shutdownFuncs, each
  // once. Calling it again returns the first call's result.
  function shutdown(): Promise<void> {
    shutdownResult ??= runAll(
      shutdownFuncs.splice(0),
      lastFuncs.splice(0),
    ).finally(() => {
      if (sink.dropped > 0) {
        warn(
          `${sink.dropped} telemetry documents could not be written to stdout`,
        );
      }
      diagLogger.flush();
      setGlobalErrorHandler(loggingErrorHandler());
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

    register(
      propagation.setGlobalPropagator(newPropagator(config.propagators)),
      "propagator",
    );
    shutdownFuncs.push(() => propagation.disable());

    // OTEL_SDK_DISABLED: context still propagates, nothing is recorded.
    if (config.sdkDisabled) return shutdown;

    const resource = newResource(warn);
    const stdout = { sink, format: config.consoleFormat };

    // The meter provider comes first: the span and log record processors
    // and exporters count what they export, fail or drop in it (the
    // otel.sdk.* metrics), so that a user sees when telemetry is lost.
    const meterProvider = newMeterProvider(
      resource,
      config,
      options.metricExporter
        ? [options.metricExporter]
        : newMetricExporters(config.metrics, stdout, env),
    );
    lastFuncs.push(() => meterProvider.shutdown());
    register(metrics.setGlobalMeterProvider(meterProvider), "meter provider");
    shutdownFuncs.push(() => metrics.disable());

    const tracerProvider = newTracerProvider(
      resource,
      config,
      options.spanExporter
        ? [options.spanExporter]
        : newSpanExporters(config.traces, stdout, env, meterProvider),
      meterProvider,
    );
    shutdownFuncs.push(() => tracerProvider.shutdown());
    register(trace.setGlobalTracerProvider(tracerProvider), "tracer provider");
    shutdownFuncs.push(() => trace.disable());

    const loggerProvider = newLoggerProvider(
      resource,
      config,
      options.logRecordExporter
        ? [options.logRecordExporter]
        : newLogRecordExporters(config.logs, stdout, env, meterProvider),
      meterProvider,
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

// Runs each group's steps concurrently, the groups one after the other, and
// reports every error together.
async function runAll(...groups: Array<Array<() => unknown>>): Promise<void> {
  const errors: unknown[] = [];
  for (const steps of groups) {
    const results = await Promise.allSettled(
      steps.map(async (step) => await step()),
    );
    for (const result of results) {
      if (result.status === "rejected") errors.push(result.reason);
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

// OTLPExporterError carries the HTTP status in `code`; its message is only
// the status text ("Internal Server Error").
function describeExportError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const status = typeof code === "number" ? ` (HTTP ${code})` : "";
  return messageOf(error) + status;
}

function warnOnStderr(message: string): void {
  console.error(`dice: ${message}`);
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

/**
 * A tracer provider that samples and limits spans as configured, and batches
 * them to each exporter; its processors count their work in `selfObs`.
 */
export function newTracerProvider(
  resource: Resource,
  config: Pick<Config, "sampler" | "bsp" | "spanLimits">,
  exporters: SpanExporter[],
  selfObs?: MeterProvider,
): TracerProvider {
  return new TracerProvider({
    resource,
    sampler: newSampler(config.sampler),
    spanLimits: config.spanLimits,
    spanProcessors: exporters.map((exporter) =>
      new BatchSpanProcessor({
        exporter,
        ...config.bsp,
        selfObsMeterProvider: selfObs,
      })
    ),
  });
}

/** A meter provider that pushes cumulative metrics to each exporter periodically. */
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
 * to each exporter; its processors count their work in `selfObs`.
 */
export function newLoggerProvider(
  resource: Resource,
  config: Pick<Config, "blrp" | "logRecordLimits">,
  exporters: LogRecordExporter[],
  selfObs?: MeterProvider,
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
