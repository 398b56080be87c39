/**
 * The exporters that `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` name, as Go
 * contrib's `autoexport` makes them: our stdout exporters for `console`, and
 * dice's OTLP/HTTP exporters (`exporters/otlp/`) for `otlp`, over protobuf
 * or JSON as the protocol variables say, with the settings dice read and
 * checked (`internal/otlp_config.ts`); and for metrics `prometheus`, the
 * official pull reader (`./metric_readers.ts`).
 *
 * Each span and log record exporter comes with its account in the
 * {@linkcode Ledger}, which it confirms into as it delivers; each metric
 * exporter is wrapped to count its exports. What the permissions would
 * make fail on every export, an endpoint they forbid or a certificate file
 * dice may not read, is refused here at start instead, in one line.
 *
 * @module
 */

import type { MeterProvider } from "@opentelemetry/api";
import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import type {
  MetricReader,
  PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Config, Signal, SignalConfig } from "../internal/config.ts";
import {
  accountedMetricExporter,
  confirmedOnSuccess,
  type ItemAccount,
  Ledger,
} from "../internal/ledger.ts";
import { SHUTDOWN_MARGIN_MILLIS } from "../internal/shutdown.ts";
import { logToStderr } from "../internal/stderr.ts";
import {
  newOtlpLogRecordExporter,
  newOtlpMetricExporter,
  newOtlpSpanExporter,
  type OtlpContext,
} from "./otlp/exporter.ts";
import { type CollectorWatch, sayWaiting } from "./otlp/watch.ts";
import {
  type StdoutExporterOptions,
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout/mod.ts";
import { newMetricReaders } from "./metric_readers.ts";

/** An exporter and the account it confirms into. */
export interface Accounted<E> {
  /** The exporter. */
  exporter: E;
  /** Where its batch processor counts what it is handed. */
  account: ItemAccount;
}

/** The exporters of each signal, made by {@linkcode newExporters}. */
export interface Exporters {
  /** The metric exporters, each counting its exports. */
  readonly metrics: PushMetricExporter[];
  /**
   * Makes the metric readers: one that pushes to each of the metric
   * exporters periodically, then Prometheus's pull reader, listening.
   */
  metricReaders(): Promise<MetricReader[]>;
  /** Makes the span exporters; the OTLP ones count in `selfObs`. */
  spans(selfObs?: MeterProvider): Accounted<SpanExporter>[];
  /** Makes the log record exporters; the OTLP ones count in `selfObs`. */
  logs(selfObs?: MeterProvider): Accounted<LogRecordExporter>[];
}

/** Exporters given instead of the configured ones, as tests give them. */
export interface GivenExporters {
  /** Replaces the configured span exporters (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
  /** Replaces the configured metric exporters. */
  metricExporter?: PushMetricExporter;
  /** Replaces the configured log record exporters. */
  logRecordExporter?: LogRecordExporter;
}

/** What the exporters of one setup share; every field has a default. */
export interface ExporterContext extends StdoutExporterOptions {
  /**
   * Where each exporter's account is kept.
   *
   * @default {new Ledger()}
   */
  ledger?: Ledger;
  /**
   * Says one line: a collector's trouble, what the shutdown waits on.
   *
   * @default {logToStderr}
   */
  warn?: (message: string) => void;
  /** The OTLP exporters' `otel.sdk.exporter.*` metrics go there. */
  selfObs?: MeterProvider;
  /** Each OTLP exporter's watch is added here. */
  watches?: CollectorWatch[];
}

// The settings newExporters reads.
type ExporterConfig = Pick<
  Config,
  | "traces"
  | "metrics"
  | "logs"
  | "consoleFormat"
  | "bsp"
  | "blrp"
  | "prometheus"
  | "metricExportIntervalMillis"
  | "metricExportTimeoutMillis"
>;

/**
 * The exporters `config` names for each signal, or the ones `given`. The
 * span and log record exporters are made on demand, once the meter
 * provider that counts what they export exists. When the shutdown begins,
 * it is said if it waits on a collector, and for how long at most.
 */
export function newExporters(
  config: ExporterConfig,
  context: ExporterContext,
  given: GivenExporters = {},
): Exporters {
  const ledger = context.ledger ?? new Ledger();
  const shared = {
    ...context,
    ledger,
    format: config.consoleFormat,
    watches: [] as CollectorWatch[],
  };
  const budget = (watch: CollectorWatch) =>
    config[watch.signal as Signal].timeoutMillis + SHUTDOWN_MARGIN_MILLIS;
  ledger.onShutdown(() => {
    const cancel = sayWaiting(
      shared.watches,
      budget,
      context.warn ?? logToStderr,
    );
    ledger.onClose(cancel);
  });
  const pushed = config.metrics.exporters.filter((n) => n !== "prometheus");
  const metrics =
    (given.metricExporter
      ? [given.metricExporter]
      : newMetricExporters(config.metrics, shared, config))
      .map((exporter, i) =>
        accountedMetricExporter(
          exporter,
          ledger.metricAccount(given.metricExporter ? "given" : pushed[i]),
          ledger,
        )
      );
  return {
    metrics,
    metricReaders: () =>
      newMetricReaders(metrics, config, !given.metricExporter),
    spans: (selfObs) =>
      given.spanExporter
        ? [confirmed(given.spanExporter, ledger.account("spans", "given"))]
        : newSpanExporters(config.traces, { ...shared, selfObs }, config),
    logs: (selfObs) =>
      given.logRecordExporter
        ? [confirmed(
          given.logRecordExporter,
          ledger.account("log records", "given"),
        )]
        : newLogRecordExporters(config.logs, { ...shared, selfObs }, config),
  };
}

function confirmed<E extends SpanExporter | LogRecordExporter>(
  exporter: E,
  account: ItemAccount,
): Accounted<E> {
  return {
    exporter: confirmedOnSuccess(exporter as SpanExporter, account) as E,
    account,
  };
}

/**
 * Makes the span exporters that `traces` names, each with its account in
 * `context.ledger`; an OTLP export takes at most the OTLP timeout, and no
 * longer than `bsp.exportTimeoutMillis`, after which the processor would
 * stop waiting for it.
 */
export function newSpanExporters(
  traces: SignalConfig,
  context: ExporterContext = {},
  config: Partial<Pick<Config, "bsp">> = {},
): Accounted<SpanExporter>[] {
  const ledger = context.ledger ?? new Ledger();
  return traces.exporters.map((name) => {
    const account = ledger.account("spans", name);
    const onWritten = (count: number) => account.confirm(count);
    if (name === "console") {
      return {
        exporter: new StdoutSpanExporter({ ...context, onWritten }),
        account,
      };
    }
    checkPermissions(traces, "traces");
    const timeout = Math.min(
      traces.timeoutMillis,
      config.bsp?.exportTimeoutMillis ?? Infinity,
    );
    const otlp = otlpContext(context, ledger);
    return {
      exporter: newOtlpSpanExporter(traces, timeout, account, otlp),
      account,
    };
  });
}

/**
 * Makes the push metric exporters that `metrics` names, all but Prometheus
 * (a pull reader); an OTLP export takes at most the OTLP timeout, and no
 * longer than `OTEL_METRIC_EXPORT_TIMEOUT`.
 */
export function newMetricExporters(
  metrics: SignalConfig,
  context: ExporterContext = {},
  config: Partial<Pick<Config, "metricExportTimeoutMillis">> = {},
): PushMetricExporter[] {
  const pushed = metrics.exporters.filter((name) => name !== "prometheus");
  return pushed.map((name) => {
    if (name === "console") return new StdoutMetricExporter(context);
    checkPermissions(metrics, "metrics");
    const timeout = Math.min(
      metrics.timeoutMillis,
      config.metricExportTimeoutMillis ?? Infinity,
    );
    const otlp = otlpContext(context, context.ledger ?? new Ledger());
    return newOtlpMetricExporter(metrics, timeout, otlp);
  });
}

/**
 * Makes the log record exporters that `logs` names, each with its account
 * in `context.ledger`; an OTLP export takes at most the OTLP timeout, and
 * no longer than `blrp.exportTimeoutMillis`.
 */
export function newLogRecordExporters(
  logs: SignalConfig,
  context: ExporterContext = {},
  config: Partial<Pick<Config, "blrp">> = {},
): Accounted<LogRecordExporter>[] {
  const ledger = context.ledger ?? new Ledger();
  return logs.exporters.map((name) => {
    const account = ledger.account("log records", name);
    const onWritten = (count: number) => account.confirm(count);
    if (name === "console") {
      return {
        exporter: new StdoutLogRecordExporter({ ...context, onWritten }),
        account,
      };
    }
    checkPermissions(logs, "logs");
    const timeout = Math.min(
      logs.timeoutMillis,
      config.blrp?.exportTimeoutMillis ?? Infinity,
    );
    const otlp = otlpContext(context, ledger);
    return {
      exporter: newOtlpLogRecordExporter(logs, timeout, account, otlp),
      account,
    };
  });
}

function otlpContext(context: ExporterContext, ledger: Ledger): OtlpContext {
  return {
    ledger,
    warn: context.warn ?? logToStderr,
    selfObs: context.selfObs,
    watches: context.watches ?? [],
  };
}

function checkPermissions(signal: SignalConfig, name: Signal): void {
  assertNetPermission(signal.endpoint, name);
  assertCertificatesReadable(signal);
}

/** Exporting somewhere the permissions forbid would fail on every batch: say so once, at start. */
function assertNetPermission(endpoint: string, signal: Signal): void {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const host = `${url.hostname}:${port}`;
  const { state } = Deno.permissions.querySync({ name: "net", host });
  if (state === "granted") return;
  throw new Error(
    // Not --allow-net: beside -P it replaces the set's network list, and
    // the service could no longer listen.
    `the OTLP ${signal} endpoint ${host} is not in dice's network permissions; ` +
      `add "${host}" to permissions.default.net in deno.json and run it again`,
  );
}

/**
 * The OTLP exporters read the certificate files that the variables name
 * when they are made, whatever the endpoint's scheme. The permissions
 * cannot know the path in advance: name it, and the flag that allows it,
 * at start, rather than fail on the read.
 */
function assertCertificatesReadable(signal: SignalConfig): void {
  for (const [name, path] of Object.entries(signal.certificates)) {
    const { state } = Deno.permissions.querySync({ name: "read", path });
    if (state === "granted") continue;
    throw new Error(
      `${name} names ${JSON.stringify(path)}, which dice may not read; ` +
        `run deno run -P --allow-read=${shellWord(path)} main.ts`,
    );
  }
}

/** `word` as one shell word: as it is when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}
