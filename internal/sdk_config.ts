/**
 * The SDK settings of the OpenTelemetry environment-variable specification
 * that the JavaScript SDK packages do not read themselves: the sampler, the
 * batch processors, the limits and the metric reader's timing.
 *
 * @module
 */

import { type EnvReader, shown } from "./env.ts";

/** The samplers the SDK provides, by their specification names. */
export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/** A sampler the SDK provides. */
export type SamplerName = typeof SAMPLERS[number];

/** What `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` chose. */
export interface SamplerConfig {
  /** The sampler. */
  name: SamplerName;
  /** The ratio of the ratio samplers, from 0 to 1. */
  ratio: number;
}

/** The settings of a batch processor (`OTEL_BSP_*` or `OTEL_BLRP_*`). */
export interface BatchConfig {
  /** Milliseconds between two exports. */
  scheduledDelayMillis: number;
  /** Milliseconds one export may take. */
  exportTimeoutMillis: number;
  /** Items kept waiting at most; more are dropped. */
  maxQueueSize: number;
  /** Items per export at most. */
  maxExportBatchSize: number;
}

/**
 * The defaults of both batch processors: the walkthrough's one-second
 * delay, where the specification says 5 s for spans, so that output
 * appears while you watch.
 */
export const BATCH_DEFAULTS: Readonly<BatchConfig> = Object.freeze({
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 30_000,
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
});

/** Span limits (`OTEL_SPAN_*`, `OTEL_ATTRIBUTE_*`), in the SDK's terms. */
export interface SpanLimitsConfig {
  /** Characters kept of a string attribute value. */
  attributeValueLengthLimit: number;
  /** Attributes kept per span. */
  attributeCountLimit: number;
  /** Events kept per span. */
  eventCountLimit: number;
  /** Links kept per span. */
  linkCountLimit: number;
  /** Attributes kept per event. */
  attributePerEventCountLimit: number;
  /** Attributes kept per link. */
  attributePerLinkCountLimit: number;
}

/** Log record limits (`OTEL_LOGRECORD_*`, `OTEL_ATTRIBUTE_*`). */
export interface LogRecordLimitsConfig {
  /** Characters kept of a string attribute value. */
  attributeValueLengthLimit: number;
  /** Attributes kept per log record. */
  attributeCountLimit: number;
}

/**
 * Attribute values are cut at 4096 characters (the specification sets no
 * limit): a queue of 2048 items then holds megabytes, not the gigabytes
 * that 64 KiB request headers could fill it with.
 */
const VALUE_LENGTH_LIMIT = 4096;
const COUNT_LIMIT = 128;

/** The default span limits. */
export const SPAN_LIMITS_DEFAULTS: Readonly<SpanLimitsConfig> = Object.freeze({
  attributeValueLengthLimit: VALUE_LENGTH_LIMIT,
  attributeCountLimit: COUNT_LIMIT,
  eventCountLimit: COUNT_LIMIT,
  linkCountLimit: COUNT_LIMIT,
  attributePerEventCountLimit: COUNT_LIMIT,
  attributePerLinkCountLimit: COUNT_LIMIT,
});

/** The default log record limits. */
export const LOG_RECORD_LIMITS_DEFAULTS: Readonly<LogRecordLimitsConfig> =
  Object.freeze({
    attributeValueLengthLimit: VALUE_LENGTH_LIMIT,
    attributeCountLimit: COUNT_LIMIT,
  });

/**
 * The most a batch processor may hold, whatever its variables say: the
 * queue is the service's largest store of telemetry, and against a
 * collector that never answers it stays full. At 16384 items (8 times the
 * default) the span and log record queues hold tens of megabytes with the
 * default limits; 99999999999 let memory grow by 40 MB/s.
 */
export const BATCH_CAPS: Readonly<
  Pick<BatchConfig, "maxQueueSize" | "maxExportBatchSize">
> = Object.freeze({ maxQueueSize: 16_384, maxExportBatchSize: 4096 });

// A whole number of items from 1 up, capped at `cap` with one line.
function cappedItems(
  read: EnvReader,
  name: string,
  fallback: number,
  cap: number,
): number {
  const value = read.integer(name, fallback, 1, "items");
  if (value <= cap) return value;
  read.say(
    `${name}=${value} is above ${cap}, the most dice holds so that its ` +
      `memory stays bounded; using ${cap}`,
  );
  return cap;
}

/** Reads `OTEL_TRACES_SAMPLER` and, for the ratio samplers, its argument. */
export function readSampler(
  read: EnvReader,
  fallback: SamplerName,
): SamplerConfig {
  const name = read.oneOf("OTEL_TRACES_SAMPLER", SAMPLERS, fallback);
  // The argument means something to the ratio samplers only.
  if (!name.endsWith("traceidratio")) return { name, ratio: 1 };
  const raw = read.get("OTEL_TRACES_SAMPLER_ARG");
  if (raw === undefined) return { name, ratio: 1 };
  const ratio = /^(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  if (ratio >= 0 && ratio <= 1) return { name, ratio };
  return {
    name,
    ratio: read.reject(
      "OTEL_TRACES_SAMPLER_ARG",
      raw,
      "a probability from 0 to 1",
      1,
    ),
  };
}

/**
 * Reads the `OTEL_BSP_*` or `OTEL_BLRP_*` variables; sizes above
 * {@linkcode BATCH_CAPS} are capped.
 */
export function readBatch(
  read: EnvReader,
  prefix: "OTEL_BSP" | "OTEL_BLRP",
): BatchConfig {
  const defaults = BATCH_DEFAULTS;
  const maxQueueSize = cappedItems(
    read,
    `${prefix}_MAX_QUEUE_SIZE`,
    defaults.maxQueueSize,
    BATCH_CAPS.maxQueueSize,
  );
  let maxExportBatchSize = cappedItems(
    read,
    `${prefix}_MAX_EXPORT_BATCH_SIZE`,
    defaults.maxExportBatchSize,
    BATCH_CAPS.maxExportBatchSize,
  );
  if (maxExportBatchSize > maxQueueSize) {
    // The specification: the batch size must not exceed the queue size.
    maxExportBatchSize = read.reject(
      `${prefix}_MAX_EXPORT_BATCH_SIZE`,
      String(maxExportBatchSize),
      `at most ${prefix}_MAX_QUEUE_SIZE (${maxQueueSize})`,
      Math.min(defaults.maxExportBatchSize, maxQueueSize),
    );
  }
  return {
    scheduledDelayMillis: read.integer(
      `${prefix}_SCHEDULE_DELAY`,
      defaults.scheduledDelayMillis,
      0,
      "milliseconds",
    ),
    exportTimeoutMillis: read.integer(
      `${prefix}_EXPORT_TIMEOUT`,
      defaults.exportTimeoutMillis,
      1,
      "milliseconds",
    ),
    maxQueueSize,
    maxExportBatchSize,
  };
}

/**
 * Reads `OTEL_METRIC_EXPORT_TIMEOUT`, at most `interval`: the SDK refuses a
 * longer one.
 */
export function readMetricExportTimeout(
  read: EnvReader,
  interval: number,
): number {
  const fallback = Math.min(30_000, interval);
  const timeout = read.integer(
    "OTEL_METRIC_EXPORT_TIMEOUT",
    fallback,
    1,
    "milliseconds",
  );
  if (timeout <= interval) return timeout;
  return read.reject(
    "OTEL_METRIC_EXPORT_TIMEOUT",
    String(timeout),
    `at most OTEL_METRIC_EXPORT_INTERVAL (${interval})`,
    interval,
  );
}

/**
 * Reads the limits: the model-specific variables (`OTEL_SPAN_*`,
 * `OTEL_LOGRECORD_*`) win over the general ones (`OTEL_ATTRIBUTE_*`), which
 * win over the defaults.
 */
export function readLimits(read: EnvReader): {
  spanLimits: SpanLimitsConfig;
  logRecordLimits: LogRecordLimitsConfig;
} {
  const span = SPAN_LIMITS_DEFAULTS;
  const length = (name: string, fallback: number) =>
    read.integer(name, fallback, 1, "characters");
  const count = (name: string, fallback: number, unit = "attributes") =>
    read.integer(name, fallback, 0, unit);
  const valueLength = length(
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    span.attributeValueLengthLimit,
  );
  const attributes = count(
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    span.attributeCountLimit,
  );
  return {
    spanLimits: {
      attributeValueLengthLimit: length(
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        valueLength,
      ),
      attributeCountLimit: count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", attributes),
      eventCountLimit: count(
        "OTEL_SPAN_EVENT_COUNT_LIMIT",
        span.eventCountLimit,
        "events",
      ),
      linkCountLimit: count(
        "OTEL_SPAN_LINK_COUNT_LIMIT",
        span.linkCountLimit,
        "links",
      ),
      attributePerEventCountLimit: count(
        "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
        span.attributePerEventCountLimit,
      ),
      attributePerLinkCountLimit: count(
        "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        span.attributePerLinkCountLimit,
      ),
    },
    logRecordLimits: {
      attributeValueLengthLimit: length(
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        valueLength,
      ),
      attributeCountLimit: count(
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
        attributes,
      ),
    },
  };
}

// Variables of the specification that dice does not act on: said, so that
// nobody wonders why setting them changes nothing.
const UNSUPPORTED: Readonly<Record<string, string>> = {
  OTEL_LOG_LEVEL: "the SDK's own diagnostics are printed from warn up",
  OTEL_CONFIG_FILE: "dice is configured by environment variables only",
};

/** Says each variable of the specification that is set but not acted on. */
export function sayUnsupported(read: EnvReader): void {
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    const raw = read.get(name);
    if (raw === undefined) continue;
    read.say(
      `${name} is not supported by dice (${why}); ignoring ${shown(raw)}`,
    );
  }
}
