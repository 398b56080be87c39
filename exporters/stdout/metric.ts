/**
 * The metric exporter that prints JSON documents shaped like OpenTelemetry
 * Go's `stdoutmetric`: one document per collection, built as objects, since
 * a collection comes every few seconds and plain reading matters more.
 *
 * @module
 */

import type { Attributes, HrTime } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogramMetricData,
  type GaugeMetricData,
  type HistogramMetricData,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
  type ScopeMetrics,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";
import {
  attributeSetDocument,
  jsonNumber,
  resourceDocument,
  scopeDocument,
} from "./document.ts";
import { StdoutExporter } from "./exporter.ts";
import { formatTime, type JsonWriter } from "./json_writer.ts";

/** Prints each collection as a JSON document shaped like Go's `stdoutmetric`. */
export class StdoutMetricExporter extends StdoutExporter<ResourceMetrics>
  implements PushMetricExporter {
  /** A collection counts as delivered once written, so that the ledger can say whether the final one was. */
  protected override readonly reportWhenWritten = true;

  /** Writes one document for the whole collection. */
  export(
    metrics: ResourceMetrics,
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.exportItems([metrics], resultCallback);
  }

  /** Writes the document of {@linkcode resourceMetricsDocument}. */
  protected writeDocument(metrics: ResourceMetrics, out: JsonWriter): void {
    out.document(resourceMetricsDocument(metrics));
  }
}

/** The `stdoutmetric` document of one collection. */
export function resourceMetricsDocument(
  metrics: ResourceMetrics,
): Record<string, unknown> {
  return {
    Resource: resourceDocument(metrics.resource),
    // Go's SDK leaves an empty collection's list nil, which prints as null.
    ScopeMetrics: metrics.scopeMetrics.length
      ? metrics.scopeMetrics.map(scopeMetricsDocument)
      : null,
  };
}

function scopeMetricsDocument(scopeMetrics: ScopeMetrics) {
  return {
    Scope: scopeDocument(scopeMetrics.scope, null),
    Metrics: scopeMetrics.metrics.map((metric) => ({
      Name: metric.descriptor.name,
      Description: metric.descriptor.description,
      Unit: metric.descriptor.unit,
      Data: metricDataDocument(metric),
    })),
  };
}

function metricDataDocument(metric: MetricData) {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return sumDocument(metric);
    case DataPointType.GAUGE:
      return gaugeDocument(metric);
    case DataPointType.HISTOGRAM:
      return histogramDocument(metric);
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return exponentialHistogramDocument(metric);
  }
}

const TEMPORALITY_NAMES: Record<AggregationTemporality, string> = {
  [AggregationTemporality.CUMULATIVE]: "CumulativeTemporality",
  [AggregationTemporality.DELTA]: "DeltaTemporality",
};

// The fields that start every data point: its attributes are Go's
// attribute.Set, sorted by key.
function pointTimes(
  point: { attributes: Attributes; startTime: HrTime; endTime: HrTime },
) {
  return {
    Attributes: attributeSetDocument(point.attributes),
    StartTime: formatTime(point.startTime),
    Time: formatTime(point.endTime),
  };
}

function sumDocument(metric: SumMetricData) {
  return {
    DataPoints: metric.dataPoints.map((point) => ({
      ...pointTimes(point),
      Value: jsonNumber(point.value),
    })),
    Temporality: TEMPORALITY_NAMES[metric.aggregationTemporality],
    IsMonotonic: metric.isMonotonic,
  };
}

// Go's gauges have no temporality.
function gaugeDocument(metric: GaugeMetricData) {
  return {
    DataPoints: metric.dataPoints.map((point) => ({
      ...pointTimes(point),
      Value: jsonNumber(point.value),
    })),
  };
}

function histogramDocument(metric: HistogramMetricData) {
  return {
    DataPoints: metric.dataPoints.map((point) => ({
      ...pointTimes(point),
      Count: point.value.count,
      Bounds: point.value.buckets.boundaries,
      BucketCounts: point.value.buckets.counts,
      Min: point.value.min ?? null,
      Max: point.value.max ?? null,
      Sum: point.value.sum ?? null,
    })),
    Temporality: TEMPORALITY_NAMES[metric.aggregationTemporality],
  };
}

function exponentialHistogramDocument(metric: ExponentialHistogramMetricData) {
  return {
    DataPoints: metric.dataPoints.map((point) => ({
      ...pointTimes(point),
      Count: point.value.count,
      Min: point.value.min ?? null,
      Max: point.value.max ?? null,
      Sum: point.value.sum ?? null,
      Scale: point.value.scale,
      ZeroCount: point.value.zeroCount,
      PositiveBucket: {
        Offset: point.value.positive.offset,
        Counts: point.value.positive.bucketCounts,
      },
      NegativeBucket: {
        Offset: point.value.negative.offset,
        Counts: point.value.negative.bucketCounts,
      },
      // Go's SDK always sets 0: only an exact zero counts as zero.
      ZeroThreshold: 0,
    })),
    Temporality: TEMPORALITY_NAMES[metric.aggregationTemporality],
  };
}
