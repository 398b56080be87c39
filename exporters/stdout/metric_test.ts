import assert from "node:assert/strict";
import { ValueType } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { type Json, parseDocuments } from "../../internal/testing.ts";
import { memorySink, resource } from "./_test_utils.ts";
import { StdoutMetricExporter, type TextSink } from "./mod.ts";

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
