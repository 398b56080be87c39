/**
 * dice's OTLP/HTTP exporters, built from the OTLP packages' public parts:
 * their serializers (protobuf or JSON), their `OTLPExporterBase` and
 * `OTLPMetricExporterBase` (which reads the metric temporality preference,
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, as the packages do),
 * and their `otel.sdk.exporter.*` metrics; with dice's own export delegate
 * and transport (`transport.ts`).
 *
 * What differs from the packages' exporters, and why:
 *
 * - each export is bounded from start to end, and aborted at its deadline
 *   or when the totals are said (`transport.ts`);
 * - what a collector confirms is counted in the {@linkcode Ledger}: a 2xx
 *   answer read in full, less what a partial success rejected, which the
 *   packages only log;
 * - a metric export that the collector partly rejected counts as failed;
 * - the settings are the ones dice read and checked (`internal/otlp_config.ts`),
 *   not the variables read again; the certificates go to a
 *   `Deno.createHttpClient`, and `NODE_EXTRA_CA_CERTS` is honoured by
 *   Deno's `fetch` itself.
 *
 * @module
 */

import type { MeterProvider } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { OTLPMetricExporterBase } from "@opentelemetry/exporter-metrics-otlp-http";
import {
  ExporterMetrics,
  type IOtlpExportDelegate,
  OTLPExporterBase,
} from "@opentelemetry/otlp-exporter-base";
import {
  type IExporterMetricsHelper,
  type ISerializer,
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  LogsExporterMetricsHelper,
  MetricsExporterMetricsHelper,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import type {
  LogRecordExporter,
  ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import type {
  PushMetricExporter,
  ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from "@opentelemetry/semantic-conventions";
import type { ItemAccount, Ledger } from "../../internal/ledger.ts";
import type { Signal, SignalConfig } from "../../internal/otlp_config.ts";
import { DeadlineTransport, OtlpExportError } from "./transport.ts";
import { CollectorWatch } from "./watch.ts";

/** What every OTLP exporter of a setup shares. */
export interface OtlpContext {
  /** Where what is produced and confirmed is counted. */
  ledger: Ledger;
  /** Says one line. */
  warn: (message: string) => void;
  /** Where the `otel.sdk.exporter.*` metrics go, when asked for. */
  selfObs?: MeterProvider;
  /** Each exporter's watch is added here, for the shutdown to look at. */
  watches: CollectorWatch[];
}

// A partial success, whatever the signal: JSON may carry int64 as strings.
interface PartialSuccess {
  partialSuccess?: {
    rejectedSpans?: number | string;
    rejectedLogRecords?: number | string;
    rejectedDataPoints?: number | string;
    errorMessage?: string;
  };
}

/** One kind of OTLP export: how to encode it, count it and read its answer. */
interface Kind<Items> {
  signal: Signal;
  unit: string;
  componentType: string;
  serializer: ISerializer<Items, unknown>;
  helper: IExporterMetricsHelper<Items>;
  /** What a partial success rejected of `items`. */
  rejected(answer: PartialSuccess): number | string | undefined;
}

/**
 * An export delegate that sends through a {@linkcode DeadlineTransport},
 * confirms what a collector accepted into `account`, and reports each
 * export once its deadline at the latest.
 */
class AccountingDelegate<Items> implements IOtlpExportDelegate<Items> {
  readonly #pending = new Set<Promise<void>>();
  #metrics?: ExporterMetrics<Items>;

  constructor(
    readonly kind: Kind<Items>,
    readonly transport: DeadlineTransport,
    readonly watch: CollectorWatch,
    readonly account: ItemAccount | undefined,
    readonly timeoutMillis: number,
  ) {}

  export(items: Items, done: (result: ExportResult) => void): void {
    const body = this.kind.serializer.serializeRequest(items);
    if (body === undefined) {
      done({
        code: ExportResultCode.FAILED,
        error: new Error("nothing to send"),
      });
      return;
    }
    const finish = this.#metrics?.startExport(items);
    const sent = this.transport.send(body).then((answer) => {
      const count = this.kind.helper.countItems(items);
      const rejected = this.#rejected(answer, count);
      this.account?.confirm(count - rejected);
      this.watch.delivered();
      finish?.(undefined);
      // A metric export counts whole or not at all.
      if (rejected > 0 && this.account === undefined) {
        done({
          code: ExportResultCode.FAILED,
          error: new OtlpExportError(`${rejected} data points rejected`),
        });
      } else done({ code: ExportResultCode.SUCCESS });
    }, (error) => {
      finish?.(error);
      done({ code: ExportResultCode.FAILED, error });
    });
    this.#pending.add(sent);
    sent.finally(() => this.#pending.delete(sent));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  setMetrics(metrics: ExporterMetrics<Items>): void {
    this.#metrics = metrics;
  }

  #rejected(answer: Uint8Array, count: number): number {
    if (answer.length === 0) return 0;
    let decoded: PartialSuccess;
    try {
      decoded = this.kind.serializer.deserializeResponse(
        answer,
      ) as PartialSuccess;
    } catch {
      // A 2xx is an acceptance; an answer that cannot be read rejects nothing.
      return 0;
    }
    const rejected = Number(this.kind.rejected(decoded) ?? 0);
    if (!(rejected > 0)) return 0;
    const counted = Math.min(rejected, count);
    this.watch.rejected(
      counted,
      count,
      this.kind.unit,
      decoded.partialSuccess?.errorMessage ?? "",
    );
    return counted;
  }
}

const TRACES = (json: boolean): Kind<ReadableSpan[]> => ({
  signal: "traces",
  unit: "spans",
  componentType: "otlp_http_span_exporter",
  serializer: json ? JsonTraceSerializer : ProtobufTraceSerializer,
  helper: TraceExporterMetricsHelper,
  rejected: (answer) => answer.partialSuccess?.rejectedSpans,
});

const LOGS = (json: boolean): Kind<ReadableLogRecord[]> => ({
  signal: "logs",
  unit: "log records",
  componentType: "otlp_http_log_exporter",
  serializer: json ? JsonLogsSerializer : ProtobufLogsSerializer,
  helper: LogsExporterMetricsHelper,
  rejected: (answer) => answer.partialSuccess?.rejectedLogRecords,
});

const METRICS = (json: boolean): Kind<ResourceMetrics> => ({
  signal: "metrics",
  unit: "data points",
  componentType: "otlp_http_metric_exporter",
  serializer: json ? JsonMetricsSerializer : ProtobufMetricsSerializer,
  helper: MetricsExporterMetricsHelper,
  rejected: (answer) => answer.partialSuccess?.rejectedDataPoints,
});

// Each exporter's delegate, for what the tests ask of it.
const DELEGATES = new WeakMap<object, AccountingDelegate<never>>();

function registered<E extends object>(
  exporter: E,
  delegate: AccountingDelegate<never>,
): E {
  DELEGATES.set(exporter, delegate);
  return exporter;
}

function newDelegate<Items>(
  kind: Kind<Items>,
  config: SignalConfig,
  timeoutMillis: number,
  context: OtlpContext,
  account?: ItemAccount,
): AccountingDelegate<Items> {
  const watch = new CollectorWatch({
    signal: kind.signal,
    url: config.endpoint,
    timeoutMillis,
    warn: context.warn,
  });
  const transport = new DeadlineTransport({
    url: config.endpoint,
    contentType: config.protocol === "http/json"
      ? "application/json"
      : "application/x-protobuf",
    headers: config.headers,
    gzip: config.compression === "gzip",
    timeoutMillis,
    client: httpClient(config),
    onAttemptFailed: (error) => watch.attemptFailed(error),
  });
  watch.busy = () => transport.busy;
  context.watches.push(watch);
  context.ledger.onClose(() => transport.abortAll());
  const delegate = new AccountingDelegate(
    kind,
    transport,
    watch,
    account,
    timeoutMillis,
  );
  delegate.setMetrics(
    new ExporterMetrics({
      componentType: kind.componentType,
      metricsHelper: kind.helper,
      url: config.endpoint,
      meterProvider: context.selfObs,
      responseAttributesFromError: (error) => {
        if (error === undefined) {
          return { [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200 };
        }
        const status = /^HTTP (\d+)/.exec(String(error))?.[1];
        return status
          ? { [ATTR_HTTP_RESPONSE_STATUS_CODE]: Number(status) }
          : {};
      },
    }),
  );
  return delegate;
}

/**
 * A span exporter to `config.endpoint` that confirms into `account`; each
 * export takes at most `timeoutMillis`.
 */
export function newOtlpSpanExporter(
  config: SignalConfig,
  timeoutMillis: number,
  account: ItemAccount,
  context: OtlpContext,
): SpanExporter {
  const kind = TRACES(config.protocol === "http/json");
  const delegate = newDelegate(kind, config, timeoutMillis, context, account);
  return registered(new OTLPExporterBase(delegate), delegate as never);
}

/**
 * A log record exporter to `config.endpoint` that confirms into `account`;
 * each export takes at most `timeoutMillis`.
 */
export function newOtlpLogRecordExporter(
  config: SignalConfig,
  timeoutMillis: number,
  account: ItemAccount,
  context: OtlpContext,
): LogRecordExporter {
  const kind = LOGS(config.protocol === "http/json");
  const delegate = newDelegate(kind, config, timeoutMillis, context, account);
  return registered(new OTLPExporterBase(delegate), delegate as never);
}

/**
 * A metric exporter to `config.endpoint`, with the temporality that
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` asks for; each export
 * takes at most `timeoutMillis`, and succeeds once delivered whole.
 */
export function newOtlpMetricExporter(
  config: SignalConfig,
  timeoutMillis: number,
  context: OtlpContext,
): PushMetricExporter {
  const kind = METRICS(config.protocol === "http/json");
  const delegate = newDelegate(kind, config, timeoutMillis, context);
  return registered(new OTLPMetricExporterBase(delegate), delegate as never);
}

/** What an OTLP exporter made here sends, and how long it waits; undefined for any other exporter. */
export function otlpSettingsOf(
  exporter: unknown,
): { signal: string; unit: string; timeoutMillis: number } | undefined {
  const delegate = DELEGATES.get(exporter as object);
  if (delegate === undefined) return undefined;
  return {
    signal: delegate.kind.signal,
    unit: delegate.kind.unit,
    timeoutMillis: delegate.timeoutMillis,
  };
}

/** The content type an OTLP exporter made here sends, for the tests. */
export function contentTypeOf(exporter: unknown): string | undefined {
  return DELEGATES.get(exporter as object)?.transport.contentType;
}

// The certificates the variables name, read once: the CA added to the
// roots, and the client certificate with its key.
function httpClient(config: SignalConfig): Deno.HttpClient | undefined {
  const entries = Object.entries(config.certificates);
  const file = (suffix: string) => {
    const path = entries.find(([name]) => name.endsWith(suffix))?.[1];
    return path === undefined ? undefined : Deno.readTextFileSync(path);
  };
  const ca = entries.find(([name]) =>
    name.endsWith("_CERTIFICATE") && !name.endsWith("_CLIENT_CERTIFICATE")
  )?.[1];
  const cert = file("_CLIENT_CERTIFICATE");
  const key = file("_CLIENT_KEY");
  if (ca === undefined && (cert === undefined || key === undefined)) {
    return undefined;
  }
  return Deno.createHttpClient({
    caCerts: ca === undefined ? undefined : [Deno.readTextFileSync(ca)],
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
  });
}
