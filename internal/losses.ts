/**
 * Telemetry that the SDK loses is said on stderr, never only counted.
 *
 * The batch processors count what they drop (a full queue) and what their
 * exporter failed to deliver, but only into a meter provider they are given
 * (the `otel.sdk.processor.*` metrics), and those metrics are opt-in here,
 * as their Go counterparts are. So the processors are always given
 * {@linkcode LossReporter.meterProvider}: it passes every measurement on to
 * the real self-observability provider when there is one, and says each
 * loss on stderr as it happens, with its cause, at most one line per signal
 * and reason per window. The exact totals at shutdown are the ledger's
 * (`internal/ledger.ts`): counted by conservation, they include the losses
 * no counter sees.
 *
 * @module
 */

import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Meter,
  type MeterProvider,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import {
  METRIC_OTEL_SDK_PROCESSOR_LOG_PROCESSED,
  METRIC_OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
} from "@opentelemetry/semantic-conventions/incubating";
import { DEFAULT_WINDOW_MILLIS, RateLimiter } from "./rate_limit.ts";

// The processors' counters, and what they count.
const PROCESSED: Record<string, string> = {
  [METRIC_OTEL_SDK_PROCESSOR_SPAN_PROCESSED]: "span",
  [METRIC_OTEL_SDK_PROCESSOR_LOG_PROCESSED]: "log record",
};

function counted(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

function wereLost(thing: string, count: number): string {
  return `${thing} ${count === 1 ? "was" : "were"} lost`;
}

// Why an item was lost, by its error.type, in words with the setting to change.
function reason(errorType: string, unit: string): string {
  if (errorType !== "queue_full") return `the export failed (${errorType})`;
  const setting = unit === "span"
    ? "OTEL_BSP_MAX_QUEUE_SIZE"
    : "OTEL_BLRP_MAX_QUEUE_SIZE";
  return `the batch queue was full (raise ${setting}, or export faster)`;
}

interface Tally {
  /** Lost since the last line. */
  unsaid: number;
}

/** Options of {@linkcode LossReporter}; every field but `warn` has a default. */
export interface LossReporterOptions {
  /** Says one line on stderr. */
  warn: (message: string) => void;
  /**
   * Receives every measurement too, for the `otel.sdk.*` metrics.
   *
   * @default {undefined} the measurements are not kept
   */
  selfObservability?: MeterProvider;
  /**
   * How long after a line the same loss waits for the next one, in ms.
   *
   * @default {10000}
   */
  windowMillis?: number;
  /**
   * The clock, in milliseconds.
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/**
 * Says on stderr what the batch processors drop or fail to export. It is
 * the meter provider to give the processors and exporters as
 * `selfObsMeterProvider`.
 */
export class LossReporter implements MeterProvider {
  readonly #warn: (message: string) => void;
  readonly #limiter: RateLimiter;
  readonly #inner?: MeterProvider;
  readonly #tallies = new Map<string, Tally>();

  /** A reporter that says each loss through `options.warn`. */
  constructor(options: LossReporterOptions) {
    this.#warn = options.warn;
    this.#limiter = new RateLimiter({
      windowMillis: options.windowMillis ?? DEFAULT_WINDOW_MILLIS,
      now: options.now,
    });
    this.#inner = options.selfObservability;
  }

  /** The processors' counters count losses; the rest pass on unchanged. */
  getMeter(
    name: string,
    version?: string,
    options?: Parameters<MeterProvider["getMeter"]>[2],
  ): Meter {
    return this.#meter(name, version, options);
  }

  /** Says what was lost and not said yet; once at shutdown. */
  flush(): void {
    for (const [key, tally] of this.#tallies) {
      if (tally.unsaid > 0) this.#say(key, tally);
    }
  }

  #meter(
    name: string,
    version?: string,
    options?: Parameters<MeterProvider["getMeter"]>[2],
  ): Meter {
    const meter = this.#inner?.getMeter(name, version, options) ??
      createNoopMeter();
    // Everything as the inner meter does it, but the processors' counters.
    const lossMeter: Meter = Object.create(meter);
    lossMeter.createCounter = (counterName, counterOptions) =>
      this.#counting(
        meter.createCounter(counterName, counterOptions),
        PROCESSED[counterName],
      );
    return lossMeter;
  }

  #counting(counter: Counter, unit: string | undefined): Counter {
    if (unit === undefined) return counter;
    return {
      add: (value: number, attributes?: Attributes) => {
        counter.add(value, attributes);
        const reason = attributes?.[ATTR_ERROR_TYPE];
        if (reason !== undefined) this.#lost(unit, String(reason), value);
      },
    };
  }

  #lost(unit: string, reason: string, count: number): void {
    const key = `${unit}\n${reason}`;
    let tally = this.#tallies.get(key);
    if (!tally) {
      tally = { unsaid: 0 };
      this.#tallies.set(key, tally);
    }
    tally.unsaid += count;
    if (this.#limiter.pass(key)) this.#say(key, tally);
  }

  #say(key: string, tally: Tally): void {
    const [unit, errorType] = key.split("\n");
    const why = reason(errorType, unit);
    const lost = wereLost(counted(tally.unsaid, unit), tally.unsaid);
    this.#warn(`${lost}: ${why}`);
    tally.unsaid = 0;
  }
}

/** Says how many documents stdout no longer took, if any; once at shutdown. */
export function sayDroppedDocuments(
  sink: { readonly dropped: number },
  warn: (message: string) => void,
): void {
  if (sink.dropped === 0) return;
  warn(`${sink.dropped} telemetry documents could not be written to stdout`);
}

/**
 * A {@linkcode LossReporter} that says losses through `warn`, and passes
 * every measurement on to `meterProvider` when `DICE_SDK_METRICS` asks for
 * the `otel.sdk.*` metrics.
 */
export function newLossReporter(
  config: { sdkMetrics: boolean },
  meterProvider: MeterProvider,
  warn: (message: string) => void,
): LossReporter {
  const selfObservability = config.sdkMetrics ? meterProvider : undefined;
  return new LossReporter({ warn, selfObservability });
}
