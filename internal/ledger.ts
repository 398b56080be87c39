/**
 * Nothing lost without a number: telemetry accounted for by conservation,
 * per exporter, rather than by adding up failure events, which misses every
 * path of loss nobody thought of.
 *
 * - **produced**: sampled spans that ended, and log records emitted, handed
 *   to the exporter's batch processor (counted by a thin wrapper around it);
 * - **confirmed**: by stdout, a document written whole; by a collector, a
 *   2xx answer whose body was read in full, less what a partial success
 *   rejected (counted by the exporter, when it knows);
 * - **lost** = produced − confirmed, whichever way it went: a full queue, a
 *   failed or timed-out export, a rejection, the shutdown's deadline, or a
 *   provider given up on.
 *
 * Metrics, cumulative, only need the last collection: the ledger counts
 * the metric exports that failed, and whether the final one, at shutdown,
 * was delivered.
 *
 * The totals are said once, on the exit path whichever it is, in the line
 * {@linkcode Ledger.line} documents. Once said, the ledger is closed: the
 * exports still under way are aborted and nothing more is confirmed, so
 * that no batch counted lost is delivered afterwards.
 *
 * @module
 */

import { type Context, TraceFlags } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type {
  LogRecordProcessor,
  ReadWriteLogRecord,
} from "@opentelemetry/sdk-logs";
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type {
  ReadableSpan,
  Span,
  SpanProcessor,
} from "@opentelemetry/sdk-trace";

/** The signals counted item by item. */
export const ITEM_SIGNALS = ["spans", "log records"] as const;

/** A signal counted item by item. */
export type ItemSignal = typeof ITEM_SIGNALS[number];

/** What one exporter of spans or log records was given and delivered. */
export class ItemAccount {
  /** Items handed to the exporter's processor. */
  produced = 0;
  #confirmed = 0;
  readonly #ledger: Ledger;

  /** The account of `signal` to `exporter` in `ledger`. */
  constructor(
    ledger: Ledger,
    readonly signal: ItemSignal,
    readonly exporter: string,
  ) {
    this.#ledger = ledger;
  }

  /** Items delivered whole. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /** Counts `count` items as delivered, unless the totals were said. */
  confirm(count: number): void {
    if (!this.#ledger.closed) this.#confirmed += count;
  }

  /** `processor`, counting into this account what it is handed. */
  counting<P extends SpanProcessor | LogRecordProcessor>(processor: P): P {
    return ("onEmit" in processor
      ? new ProducedLogRecords(processor, this)
      : new ProducedSpans(processor, this)) as unknown as P;
  }
}

/** What one metric exporter was given and delivered. */
export class MetricAccount {
  /** Exports started. */
  exports = 0;
  /** Exports delivered. */
  delivered = 0;
  /**
   * The final collection, exported at shutdown: `delivered`, `not
   * delivered`, or `empty` when the shutdown found nothing to export.
   */
  final: "delivered" | "not delivered" | "empty" = "not delivered";

  /** The account of the metric exporter `exporter`. */
  constructor(readonly exporter: string) {}
}

/** The accounts of every exporter of one setup, and their totals. */
export class Ledger {
  readonly #items: ItemAccount[] = [];
  readonly #metrics: MetricAccount[] = [];
  readonly #onShutdown: Array<() => void> = [];
  readonly #onClose: Array<() => void> = [];
  #shuttingDown = false;
  #closed = false;

  /** Whether the totals were said; nothing is confirmed after. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the shutdown has begun: a metric export now is the final one. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Opens the account of `signal` to `exporter`. */
  account(signal: ItemSignal, exporter: string): ItemAccount {
    const account = new ItemAccount(this, signal, exporter);
    this.#items.push(account);
    return account;
  }

  /** Opens the account of the metric exporter `exporter`. */
  metricAccount(exporter: string): MetricAccount {
    const account = new MetricAccount(exporter);
    this.#metrics.push(account);
    return account;
  }

  /** Runs `hook` when the shutdown begins. */
  onShutdown(hook: () => void): void {
    this.#onShutdown.push(hook);
  }

  /** Runs `hook` when the totals are said, to abort what is still under way. */
  onClose(hook: () => void): void {
    this.#onClose.push(hook);
  }

  /** Marks the beginning of the shutdown; runs the hooks once. */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    // Until the final collection is exported, there is none.
    for (const account of this.#metrics) account.final = "empty";
    for (const hook of this.#onShutdown.splice(0)) hook();
  }

  /**
   * The totals, in one line of this stable format (entries in this order,
   * exporters in the order configured; signals without exporters left out):
   *
   * ```text
   * in all: spans to console: 40 produced, 40 confirmed, 0 lost; spans to otlp: 40 produced, 32 confirmed, 8 lost; log records to otlp: 20 produced, 20 confirmed, 0 lost; metrics to otlp: 2 exports failed, final collection delivered
   * ```
   *
   * The final collection is `delivered`, `not delivered` (also when the
   * process exits before it is exported), or `empty` (nothing recorded).
   *
   * Undefined when nothing was produced and no metric exported: a service
   * that served nothing, or whose setup failed, has nothing to account for.
   */
  line(): string | undefined {
    if (
      this.#items.every((a) => a.produced === 0) &&
      this.#metrics.every((a) => a.exports === 0)
    ) {
      return undefined;
    }
    const entries = [
      ...ITEM_SIGNALS.flatMap((signal) =>
        this.#items.filter((a) => a.signal === signal).map((a) =>
          `${a.signal} to ${a.exporter}: ${a.produced} produced, ` +
          `${a.confirmed} confirmed, ${a.produced - a.confirmed} lost`
        )
      ),
      ...this.#metrics.map((a) =>
        `metrics to ${a.exporter}: ${a.exports - a.delivered} exports ` +
        `failed, final collection ${a.final}`
      ),
    ];
    return `in all: ${entries.join("; ")}`;
  }

  /**
   * Closes the ledger, aborting the exports still under way, and says the
   * totals through `warn`; once, later calls do nothing.
   */
  report(warn: (message: string) => void): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const hook of this.#onClose.splice(0)) hook();
    const line = this.line();
    if (line !== undefined) warn(line);
  }

  /**
   * Says the totals through `warn` when the returned function is called,
   * or on any earlier exit of the process (a second Ctrl+C, the deadline),
   * whichever comes first; once.
   */
  reportOnExit(warn: (message: string) => void): () => void {
    const onUnload = () => this.report(warn);
    globalThis.addEventListener("unload", onUnload);
    return () => {
      globalThis.removeEventListener("unload", onUnload);
      this.report(warn);
    };
  }
}

/** A span processor that counts the sampled spans `inner` is handed. */
export class ProducedSpans implements SpanProcessor {
  /** Counts into `account` what it hands `inner`. */
  constructor(
    readonly inner: SpanProcessor,
    readonly account: ItemAccount,
  ) {}

  /** Hands the span on. */
  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  /** Counts the span when sampled (the batch processor drops the others), and hands it on. */
  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & TraceFlags.SAMPLED) {
      this.account.produced++;
    }
    this.inner.onEnd(span);
  }

  /** Flushes `inner`. */
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  /** Shuts `inner` down; spans ended later still count, as lost. */
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** A log record processor that counts the records `inner` is handed. */
export class ProducedLogRecords implements LogRecordProcessor {
  /** Counts into `account` what it hands `inner`. */
  constructor(
    readonly inner: LogRecordProcessor,
    readonly account: ItemAccount,
  ) {}

  /** Counts the record and hands it on. */
  onEmit(record: ReadWriteLogRecord, context?: Context): void {
    this.account.produced++;
    this.inner.onEmit(record, context);
  }

  /** Flushes `inner`. */
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  /** Shuts `inner` down; records emitted later still count, as lost. */
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * An exporter that does not confirm by itself (one given by a test)
 * confirmed: what it reports exported is counted delivered.
 */
export function confirmedOnSuccess<Item>(
  exporter: {
    export(items: Item[], done: (result: ExportResult) => void): void;
    forceFlush?(): Promise<void>;
    shutdown(): Promise<void>;
  },
  account: ItemAccount,
): {
  export(items: Item[], done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
} {
  return {
    export: (items, done) =>
      exporter.export(items, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          account.confirm(items.length);
        }
        done(result);
      }),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    shutdown: () => exporter.shutdown(),
  };
}

/**
 * `exporter`, counting into `account` each export and whether it was
 * delivered: a success reported by the exporter is a delivery (dice's
 * metric exporters report one once written or accepted).
 */
export function accountedMetricExporter(
  exporter: PushMetricExporter,
  account: MetricAccount,
  ledger: Ledger,
): PushMetricExporter {
  const accounted: PushMetricExporter = {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
      const final = ledger.shuttingDown;
      account.exports++;
      if (final) account.final = "not delivered";
      exporter.export(metrics, (result) => {
        if (result.code === ExportResultCode.SUCCESS && !ledger.closed) {
          account.delivered++;
          if (final) account.final = "delivered";
        }
        done(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
  };
  if (exporter.selectAggregationTemporality) {
    accounted.selectAggregationTemporality = (type: InstrumentType) =>
      exporter.selectAggregationTemporality!(type) as AggregationTemporality;
  }
  if (exporter.selectAggregation) {
    accounted.selectAggregation = (type) => exporter.selectAggregation!(type);
  }
  return accounted;
}
