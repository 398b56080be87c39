import assert from "node:assert/strict";
import { ValueType } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { type Json, parseDocuments } from "../../internal/testing.ts";
import { memorySink, resource } from "./_test_utils.ts";
import {
  type ConsoleFormat,
  StdoutMetricExporter,
  type TextSink,
} from "./mod.ts";

Deno.test("StdoutMetricExporter prints the fields of Go's stdoutmetric", async (t) => {
  const sink = memorySink();
  const provider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new StdoutMetricExporter({ sink }),
      }),
    ],
  });
  const meter = provider.getMeter("test-scope", "0.1.0");
  meter.createCounter("rolls", {
    unit: "{roll}",
    description: "Rolls.",
    valueType: ValueType.INT,
  })
    .add(2, { face: 6 });
  meter.createHistogram("latency", {
    unit: "s",
    advice: { explicitBucketBoundaries: [0.1, 1] },
  })
    .record(0.5);
  meter.createUpDownCounter("active").add(-1);
  meter.createGauge("temperature").record(21.5);
  await provider.shutdown();
  const [document] = parseDocuments(sink.text);
  const [scopeMetrics] = document.ScopeMetrics;
  const byName = Object.fromEntries(
    scopeMetrics.Metrics.map((
      metric: Json,
    ) => [metric.Name, metric]),
  );

  await t.step("resource and scope", () => {
    assert.equal(document.Resource.length, 2);
    assert.deepEqual(scopeMetrics.Scope, {
      Name: "test-scope",
      Version: "0.1.0",
      SchemaURL: "",
      Attributes: null,
    });
  });

  await t.step("sums with temporality and monotonicity", () => {
    const rolls = byName.rolls;
    assert.equal(rolls.Unit, "{roll}");
    assert.equal(rolls.Description, "Rolls.");
    assert.equal(rolls.Data.Temporality, "CumulativeTemporality");
    assert.equal(rolls.Data.IsMonotonic, true);
    const [point] = rolls.Data.DataPoints;
    assert.deepEqual(point.Attributes, [{
      Key: "face",
      Value: { Type: "INT64", Value: 6 },
    }]);
    assert.equal(point.Value, 2);
    assert.match(point.StartTime, /Z$/);
    assert.match(point.Time, /Z$/);
    assert.equal(byName.active.Data.IsMonotonic, false);
    assert.equal(byName.active.Data.DataPoints[0].Value, -1);
  });

  await t.step(
    "histograms with bounds, bucket counts, count, sum, min and max",
    () => {
      const [point] = byName.latency.Data.DataPoints;
      assert.deepEqual(
        { ...point, StartTime: 0, Time: 0 },
        {
          Attributes: [],
          StartTime: 0,
          Time: 0,
          Count: 1,
          Bounds: [0.1, 1],
          BucketCounts: [0, 1, 0],
          Min: 0.5,
          Max: 0.5,
          Sum: 0.5,
        },
      );
      assert.equal(byName.latency.Data.Temporality, "CumulativeTemporality");
    },
  );

  await t.step("gauges with their last value", () => {
    assert.equal(byName.temperature.Data.DataPoints[0].Value, 21.5);
    assert.equal(byName.temperature.Data.Temporality, undefined);
  });
});

Deno.test("StdoutMetricExporter.forceFlush() waits for writes under way", async () => {
  let release = () => {};
  const sink: TextSink = {
    unwritten: 0,
    write: () => new Promise((resolve) => release = resolve),
  };
  const exporter = new StdoutMetricExporter({ sink });
  exporter.export({ resource, scopeMetrics: [] }, () => {});
  let flushed = false;
  const flushing = exporter.forceFlush().then(() => flushed = true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(flushed, false);
  release();
  await flushing;
  assert.equal(flushed, true);
});

Deno.test("StdoutMetricExporter reuses a buffer only once the sink has written it", async () => {
  // The sink keeps each export's bytes, unread, until it is told to write.
  const held: Array<{ bytes: Uint8Array; release(): void }> = [];
  const sink: TextSink = {
    unwritten: 0,
    write: (bytes) => new Promise((release) => held.push({ bytes, release })),
  };
  const exporter = new StdoutMetricExporter({ sink, format: "compact" });
  const exportOf = (name: string) =>
    exporter.export({
      resource: resourceFromAttributes({ name }),
      scopeMetrics: [],
    }, () => {});
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  exportOf("first");
  exportOf("second");
  assert.notEqual(held[0].bytes.buffer, held[1].bytes.buffer);
  assert.match(text(held[0].bytes), /"first"/);
  assert.match(text(held[1].bytes), /"second"/);

  held[0].release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  exportOf("third");
  // The third export went into the first one's buffer, and the second's,
  // still unwritten, is intact.
  assert.equal(held[2].bytes.buffer, held[0].bytes.buffer);
  assert.match(text(held[2].bytes), /"third"/);
  assert.match(text(held[1].bytes), /"second"/);
  for (const { release } of held) release();
  await exporter.forceFlush();
});

// Go's zero time, which the example prints for every time since it exports
// WithoutTimestamps.
const GO_ZERO_TIME: [number, number] = [-62135596800, 0];

function goPoint<T>(server: Record<string, string>, value: T) {
  return {
    attributes: server,
    startTime: GO_ZERO_TIME,
    endTime: GO_ZERO_TIME,
    value,
  };
}

function goMetric(name: string, description: string, unit: string) {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
  };
}

// The collection of opentelemetry-go v1.45.0's
// exporters/stdout/stdoutmetric/example_test.go (mockData).
const GO_COLLECTION = {
  resource: resourceFromAttributes({ "service.name": "stdoutmetric-example" }),
  scopeMetrics: [{
    scope: { name: "example", version: "0.0.1" },
    metrics: [
      {
        ...goMetric("requests", "Number of requests received", "1"),
        dataPointType: DataPointType.SUM,
        aggregationTemporality: AggregationTemporality.DELTA,
        isMonotonic: true,
        dataPoints: [goPoint({ server: "central" }, 5)],
      },
      {
        ...goMetric("system.cpu.time", "Accumulated CPU time spent", "s"),
        dataPointType: DataPointType.SUM,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: true,
        dataPoints: [goPoint({ state: "user" }, 0.5)],
      },
      {
        ...goMetric("requests.size", "Size of received requests", "kb"),
        dataPointType: DataPointType.HISTOGRAM,
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPoints: [goPoint({ server: "central" }, {
          count: 10,
          buckets: { boundaries: [1, 5, 10], counts: [1, 3, 6, 0] },
          sum: 128,
          min: 3,
          max: 30,
        })],
      },
      {
        ...goMetric("latency", "Time spend processing received requests", "ms"),
        dataPointType: DataPointType.HISTOGRAM,
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPoints: [goPoint({ server: "central" }, {
          count: 10,
          buckets: { boundaries: [1, 5, 10], counts: [1, 3, 6, 0] },
          sum: 57,
        })],
      },
      {
        ...goMetric("system.memory.usage", "Memory usage", "By"),
        dataPointType: DataPointType.GAUGE,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: [goPoint({ state: "used" }, 100)],
      },
      {
        ...goMetric("temperature", "CPU global temperature", "cel(1 K)"),
        dataPointType: DataPointType.GAUGE,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: [goPoint({ server: "central" }, 32.4)],
      },
    ],
  }],
} as ResourceMetrics;

async function exportCollections(
  collections: ResourceMetrics[],
  format: ConsoleFormat = "pretty",
): Promise<string> {
  const sink = memorySink();
  const exporter = new StdoutMetricExporter({ sink, format });
  for (const collection of collections) {
    await new Promise((done) => exporter.export(collection, done));
  }
  return sink.text;
}

Deno.test("StdoutMetricExporter prints collections as Go's stdoutmetric v1.45 example does, byte for byte", async () => {
  // The example's output, which Go indents with two spaces there; the
  // exporter's pretty print indents with tabs.
  const expected = (await Deno.readTextFile(
    new URL("./testdata/stdoutmetric_example.golden", import.meta.url),
  )).replace(/^(?: {2})+/gm, (indent) => "\t".repeat(indent.length / 2));
  // Then the SDK's last collection, which held nothing.
  const empty = { resource: GO_COLLECTION.resource, scopeMetrics: [] };
  assert.equal(await exportCollections([GO_COLLECTION, empty]), expected);
});

Deno.test("StdoutMetricExporter prints a data point's attributes sorted by key, as Go's attribute.Set keeps them", async () => {
  const point = goPoint({ "z.last": "z", "a.first": "a", "m.middle": "m" }, 1);
  const collection = {
    ...GO_COLLECTION,
    scopeMetrics: [{
      scope: { name: "example" },
      metrics: [{
        ...goMetric("requests", "", "1"),
        dataPointType: DataPointType.SUM,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: true,
        dataPoints: [point],
      }],
    }],
  } as ResourceMetrics;
  const [document] = parseDocuments(await exportCollections([collection]));
  const [printed] = document.ScopeMetrics[0].Metrics[0].Data.DataPoints;
  assert.deepEqual(
    printed.Attributes.map((attribute: Json) => attribute.Key),
    ["a.first", "m.middle", "z.last"],
  );
});

Deno.test("StdoutMetricExporter prints an exponential histogram's ZeroThreshold, 0 as Go's SDK sets it", async () => {
  const collection = {
    ...GO_COLLECTION,
    scopeMetrics: [{
      scope: { name: "example" },
      metrics: [{
        ...goMetric("latency", "", "ms"),
        dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPoints: [goPoint({}, {
          count: 1,
          sum: 2,
          min: 2,
          max: 2,
          scale: 20,
          zeroCount: 0,
          positive: { offset: 1048576, bucketCounts: [1] },
          negative: { offset: 0, bucketCounts: [] },
        })],
      }],
    }],
  } as ResourceMetrics;
  const [document] = parseDocuments(await exportCollections([collection]));
  const [point] = document.ScopeMetrics[0].Metrics[0].Data.DataPoints;
  // The fields of Go's ExponentialHistogramDataPoint, in their order.
  assert.deepEqual(Object.keys(point), [
    "Attributes",
    "StartTime",
    "Time",
    "Count",
    "Min",
    "Max",
    "Sum",
    "Scale",
    "ZeroCount",
    "PositiveBucket",
    "NegativeBucket",
    "ZeroThreshold",
  ]);
  assert.equal(point.ZeroThreshold, 0);
});
