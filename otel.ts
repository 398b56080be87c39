/**
 * OpenTelemetry SDK setup: Go's `otel.go` for Deno.
 *
 * {@linkcode setupOTelSDK} registers a propagator and one provider per
 * signal, and returns the one function that flushes and shuts them all down.
 * What hardens it is one call away: the settings (`internal/config.ts`), the
 * exporters (`exporters/autoexport.ts`), the count of what each exporter
 * produced and delivered (`internal/ledger.ts`), the running loss lines
 * (`internal/losses.ts`), diagnostics (`internal/diag_logger.ts`), the
 * checks on global registration (`internal/globals.ts`) and the shutdown's
 * bounds (`internal/shutdown.ts`).
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
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from "@opentelemetry/sdk-logs";
import { MeterProvider, type MetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  type Config,
  DEFAULT_CONFIG,
  type PropagatorName,
} from "./internal/config.ts";
import { installDiagLogger } from "./internal/diag_logger.ts";
import { messageOf } from "./internal/errors.ts";
import { registered } from "./internal/globals.ts";
import { Ledger } from "./internal/ledger.ts";
import { newLossReporter, sayDroppedDocuments } from "./internal/losses.ts";
import { newResource } from "./internal/resource.ts";
import { newSampler } from "./internal/sampler.ts";
import { newShutdownFuncs, shutdownWithin } from "./internal/shutdown.ts";
import { logToStderr } from "./internal/stderr.ts";
import {
  type Exporters,
  type GivenExporters,
  newExporters,
} from "./exporters/autoexport.ts";
import {
  ChildSpanCounter,
  type StdoutSink,
  stdoutSink,
} from "./exporters/stdout/mod.ts";
import {
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "./propagation/mod.ts";

/** Flushes and shuts down everything {@linkcode setupOTelSDK} set up. */
export type Shutdown = () => Promise<void>;

/** What {@linkcode setupOTelSDK} needs; every field has a default. */
export interface OTelOptions extends GivenExporters {
  /**
   * What to export where, as `readConfig` read it from the environment.
   *
   * @default {DEFAULT_CONFIG}
   */
  config?: Omit<Config, "port" | "hostname" | "shutdownTimeoutMillis">;
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
  /**
   * Where what each exporter produced and confirmed is counted; the caller
   * can say the totals itself when it must exit before the shutdown ends.
   *
   * @default {new Ledger()}
   */
  ledger?: Ledger;
  /**
   * Under `deno task serve`, this worker's number, appended to an instance
   * id given in `OTEL_RESOURCE_ATTRIBUTES` so that workers stay distinct.
   *
   * @default {undefined} one process, the id as given
   */
  worker?: number;
}

/**
 * Bootstraps the OpenTelemetry pipeline and registers it globally.
 *
 * The returned shutdown runs each cleanup step once and reports every error
 * together. The three providers shut down concurrently, so that exporters
 * stuck on a dead collector cost one export timeout, not three. Whatever
 * the batch processors drop or fail to export is said through `warn`, and
 * at shutdown one line says what each exporter produced, confirmed and
 * lost (`Ledger.line`). Shutdown also unregisters the globals, so that the
 * API is a no-op again afterwards and setup can run anew. If setup fails,
 * what it had already set up is shut down before it throws.
 *
 * @example Set up, record, and flush everything at the end
 * ```ts
 * import assert from "node:assert/strict";
 * import { trace } from "@opentelemetry/api";
 * import { stdoutSink } from "./exporters/stdout/mod.ts";
 * import { setupOTelSDK } from "./otel.ts";
 *
 * // Documents go to stdout by default; here, to a string.
 * let printed = "";
 * const sink = stdoutSink({
 *   output: {
 *     write(bytes) {
 *       printed += new TextDecoder().decode(bytes);
 *       return Promise.resolve(bytes.length);
 *     },
 *   },
 * });
 * // Lines for people, such as the totals at shutdown, go to warn.
 * const said: string[] = [];
 * const shutdown = await setupOTelSDK({ sink, warn: (l) => said.push(l) });
 * trace.getTracer("example").startSpan("work").end();
 * await shutdown(); // flushes the span
 * assert.match(printed, /"Name": "work"/);
 * assert.match(said.join("\n"), /spans to console: 1 produced, 1 confirmed/);
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
  defer(installDiagLogger({ write: warn }));
  const sink = options.sink ?? stdoutSink({ warn });
  const ledger = options.ledger ?? new Ledger();
  defer(ledger.reportOnExit(warn));
  defer(() => sayDroppedDocuments(sink, warn));
  add(() => ledger.beginShutdown());

  try {
    const contextManager = new AsyncLocalStorageContextManager();
    defer(registered(context, context.setGlobalContextManager(contextManager)));
    const propagator = newPropagator(config.propagators);
    defer(registered(propagation, propagation.setGlobalPropagator(propagator)));
    // OTEL_SDK_DISABLED: context still propagates, nothing is recorded.
    if (config.sdkDisabled) return shutdown;

    const res = newResource(options.worker);
    const exporters = newExporters(config, { sink, ledger, warn }, options);
    const readers = await exporters.metricReaders();
    const meterProvider = newMeterProvider(res, readers);
    // Beside the others, not after them: against a collector that never
    // answers, the whole shutdown then takes one export timeout.
    add(shutdownWithin(meterProvider, config.metrics, "the meter provider"));
    defer(registered(metrics, metrics.setGlobalMeterProvider(meterProvider)));
    // The processors and exporters count what they lose in it: said on
    // stderr, and in the otel.sdk.* metrics with DICE_SDK_METRICS.
    const losses = newLossReporter(config, meterProvider, warn);
    defer(() => losses.flush());

    const tracerProvider = newTracerProvider(res, config, exporters, losses);
    add(shutdownWithin(tracerProvider, config.traces, "the tracer provider"));
    defer(registered(trace, trace.setGlobalTracerProvider(tracerProvider)));

    const loggerProvider = newLoggerProvider(res, config, exporters, losses);
    add(shutdownWithin(loggerProvider, config.logs, "the logger provider"));
    defer(registered(logs, logs.setGlobalLoggerProvider(loggerProvider)));
  } catch (error) {
    await shutdown().catch((cleanupError) => {
      throw new AggregateError([error, cleanupError], messageOf(error));
    });
    throw error;
  }
  return shutdown;
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

/**
 * A tracer provider that samples and limits spans as configured, counts each
 * span's children (Go's `ChildSpanCount`), and batches them to each span
 * exporter, counting in its account what it hands each; its processors and
 * exporters count what they export and drop in `selfObs`.
 */
export function newTracerProvider(
  resource: Resource,
  config: Pick<Config, "sampler" | "bsp" | "spanLimits">,
  exporters: Pick<Exporters, "spans">,
  selfObs?: APIMeterProvider,
): TracerProvider {
  return new TracerProvider({
    resource,
    sampler: newSampler(config.sampler),
    spanLimits: config.spanLimits,
    spanProcessors: [
      // First, so that a parent has counted its children when it ends.
      new ChildSpanCounter(),
      ...exporters.spans(selfObs).map(({ exporter, account }) =>
        account.counting(
          new BatchSpanProcessor({
            exporter,
            ...config.bsp,
            selfObsMeterProvider: selfObs,
          }),
        )
      ),
    ],
  });
}

/**
 * A meter provider read by each of `readers`: push readers that export
 * periodically, and pull readers such as Prometheus's.
 */
export function newMeterProvider(
  resource: Resource,
  readers: MetricReader[],
): MeterProvider {
  return new MeterProvider({ resource, readers });
}

/**
 * A logger provider that limits log records as configured and batches them
 * to each log record exporter, counting in its account what it hands each;
 * its processors and exporters count what they
 * export and drop in `selfObs`.
 */
export function newLoggerProvider(
  resource: Resource,
  config: Pick<Config, "blrp" | "logRecordLimits">,
  exporters: Pick<Exporters, "logs">,
  selfObs?: APIMeterProvider,
): LoggerProvider {
  return new LoggerProvider({
    resource,
    logRecordLimits: config.logRecordLimits,
    processors: exporters.logs(selfObs).map(({ exporter, account }) =>
      account.counting(
        new BatchLogRecordProcessor({
          exporter,
          ...config.blrp,
          selfObsMeterProvider: selfObs,
        }),
      )
    ),
  });
}
