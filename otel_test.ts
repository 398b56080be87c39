import assert from "node:assert/strict";
import {
  context,
  logs,
  metrics,
  propagation,
  ROOT_CONTEXT,
  trace,
} from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import {
  MeterProvider,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { DEFAULT_CONFIG } from "./config.ts";
import denoJson from "./deno.json" with { type: "json" };
import {
  newPropagator,
  newResource,
  newSampler,
  setupOTelSDK,
} from "./otel.ts";
import { setupTestSDK } from "./testing.ts";

/** An exporter for every signal that counts its shutdowns and may fail them. */
class CountingExporter
  implements SpanExporter, LogRecordExporter, PushMetricExporter {
  shutdowns = 0;
  exported = 0;
  constructor(readonly shutdownError?: Error) {}
  export(
    items: unknown,
    resultCallback: (result: { code: ExportResultCode }) => void,
  ): void {
    this.exported += Array.isArray(items) ? items.length : 1;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return this.shutdownError
      ? Promise.reject(this.shutdownError)
      : Promise.resolve();
  }
}

function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => void,
): void {
  const saved = Object.fromEntries(
    Object.keys(vars).map((name) => [name, Deno.env.get(name)]),
  );
  function apply(values: Record<string, string | undefined>) {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
  apply(vars);
  try {
    fn();
  } finally {
    apply(saved);
  }
}

Deno.test("setupOTelSDK() registers the SDK globally and shutdown() unregisters it", async () => {
  const sdk = await setupTestSDK();
  try {
    assert.ok(trace.getTracerProvider() instanceof Object);
    const span = trace.getTracer("t").startSpan("s");
    assert.ok(
      trace.isSpanContextValid(span.spanContext()),
      "the tracer is the SDK's, not a no-op",
    );
    span.end();
    assert.ok(metrics.getMeterProvider() instanceof MeterProvider);
    assert.deepEqual(propagation.fields(), [
      "traceparent",
      "tracestate",
      "baggage",
    ]);
    const active = trace.setSpan(ROOT_CONTEXT, span);
    assert.equal(
      context.with(active, () => trace.getActiveSpan()),
      span,
      "context flows",
    );
  } finally {
    await sdk.shutdown();
  }
  assert.deepEqual(propagation.fields(), []);
  assert.equal(trace.getTracer("t").startSpan("s").isRecording(), false);
  assert.equal(
    context.with(
      trace.setSpan(
        ROOT_CONTEXT,
        trace.wrapSpanContext({
          traceId: "0af7651916cd43dd8448eb211c80319c",
          spanId: "b7ad6b7169203331",
          traceFlags: 1,
        }),
      ),
      () => trace.getActiveSpan(),
    ),
    undefined,
    "the context manager is a no-op again",
  );
});

/** Sets up the SDK with `exporter` for all three signals. */
function setupCounting(exporter: CountingExporter, config = DEFAULT_CONFIG) {
  return setupOTelSDK({
    config,
    spanExporter: exporter,
    metricExporter: exporter,
    logRecordExporter: exporter,
  });
}

Deno.test("setupOTelSDK() shutdown", async (t) => {
  await t.step("runs each step once, however often it is called", async () => {
    const exporter = new CountingExporter();
    const shutdown = await setupCounting(exporter);
    await Promise.all([shutdown(), shutdown()]);
    await shutdown();
    assert.equal(exporter.shutdowns, 3, "one per provider");
  });

  await t.step("flushes what was recorded before it", async () => {
    const exporter = new CountingExporter();
    const shutdown = await setupCounting(exporter);
    trace.getTracer("t").startSpan("s").end();
    logs.getLogger("t").emit({ body: "hello" });
    metrics.getMeter("t").createCounter("c").add(1);
    await shutdown();
    assert.equal(
      exporter.exported,
      3,
      "a span, a log record and a metric collection",
    );
  });

  await t.step("reports every error together", async () => {
    const shutdown = await setupOTelSDK({
      config: DEFAULT_CONFIG,
      spanExporter: new CountingExporter(new Error("spans stuck")),
      metricExporter: new CountingExporter(),
      logRecordExporter: new CountingExporter(new Error("logs stuck")),
    });
    const error = await shutdown().then(() => undefined, (error) => error);
    assert.ok(error instanceof AggregateError);
    assert.match(
      error.message,
      /spans stuck.*logs stuck|logs stuck.*spans stuck/,
    );
    assert.equal(error.errors.length, 2);
    assert.equal(
      await shutdown().catch((again) => again),
      error,
      "the same result again",
    );
    assert.equal(
      trace.getTracer("t").startSpan("s").isRecording(),
      false,
      "unregistered anyway",
    );
  });
});

Deno.test("setupOTelSDK() cleans up and rethrows when another SDK owns the API", async () => {
  const other = new TracerProvider();
  assert.ok(trace.setGlobalTracerProvider(other));
  const exporter = new CountingExporter();
  try {
    await assert.rejects(
      setupOTelSDK({
        config: DEFAULT_CONFIG,
        spanExporter: exporter,
        metricExporter: exporter,
      }),
      /cannot register the OpenTelemetry tracer provider: .*OTEL_DENO/,
    );
    assert.equal(
      exporter.shutdowns,
      2,
      "the meter and tracer providers built before the failure are shut down",
    );
    assert.ok(
      !(metrics.getMeterProvider() instanceof MeterProvider),
      "and unregistered",
    );
    assert.deepEqual(
      propagation.fields(),
      [],
      "the propagator registered before it is removed",
    );
    assert.equal(
      trace.getTracerProvider().getTracer("t").startSpan("s").isRecording(),
      true,
    );
  } finally {
    trace.disable();
    await other.shutdown();
  }
});

Deno.test("setupOTelSDK() exports at the configured intervals, not the SDK defaults", async () => {
  const exporter = new CountingExporter();
  const shutdown = await setupCounting(exporter, {
    ...DEFAULT_CONFIG,
    bsp: { ...DEFAULT_CONFIG.bsp, scheduledDelayMillis: 10 },
    blrp: { ...DEFAULT_CONFIG.blrp, scheduledDelayMillis: 10 },
    metricExportIntervalMillis: 20,
    metricExportTimeoutMillis: 20,
  });
  try {
    trace.getTracer("t").startSpan("s").end();
    logs.getLogger("t").emit({ body: "hello" });
    metrics.getMeter("t").createCounter("c").add(1);
    // The SDK defaults are 5 s for spans and logs and 60 s for metrics.
    const deadline = Date.now() + 2000;
    while (exporter.exported < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(
      exporter.exported >= 3,
      `only ${exporter.exported} exports before shutdown`,
    );
  } finally {
    await shutdown();
  }
});

Deno.test("newPropagator() injects W3C Trace Context and Baggage", () => {
  const propagator = newPropagator();
  const spanContext = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
  };
  const ctx = propagation.setBaggage(
    trace.setSpanContext(ROOT_CONTEXT, spanContext),
    propagation.createBaggage({ player: { value: "Alice" } }),
  );
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, { set: (c, k, v) => c[k] = v });
  assert.deepEqual(carrier, {
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    baggage: "player=Alice",
  });
});

Deno.test("newResource()", async (t) => {
  function resourceWith(vars: Record<string, string | undefined>) {
    const warnings: string[] = [];
    let attributes: Record<string, unknown> = {};
    withEnv(
      {
        OTEL_RESOURCE_ATTRIBUTES: undefined,
        OTEL_SERVICE_NAME: undefined,
        ...vars,
      },
      () =>
        attributes =
          newResource((message) => warnings.push(message)).attributes,
    );
    return { attributes, warnings };
  }

  await t.step("names the service dice and the runtime Deno, not Node", () => {
    const { attributes, warnings } = resourceWith({});
    assert.deepEqual(warnings, []);
    assert.equal(attributes["service.name"], "dice");
    assert.equal(attributes["service.version"], "0.1.0");
    assert.equal(attributes["process.runtime.name"], "deno");
    assert.equal(attributes["process.runtime.version"], Deno.version.deno);
    assert.equal(attributes["telemetry.sdk.name"], "opentelemetry");
    const pinned = denoJson.imports["@opentelemetry/core"].split("@").pop();
    assert.equal(attributes["telemetry.sdk.version"], pinned);
  });

  await t.step(
    "adds OTEL_RESOURCE_ATTRIBUTES, percent-decoded, over the defaults",
    () => {
      const { attributes, warnings } = resourceWith({
        OTEL_RESOURCE_ATTRIBUTES:
          "service.name=roller,deployment.environment.name=dev%2Cblue, team = dice%20crew ",
      });
      assert.deepEqual(warnings, []);
      assert.equal(attributes["service.name"], "roller");
      assert.equal(attributes["deployment.environment.name"], "dev,blue");
      assert.equal(attributes["team"], "dice crew");
    },
  );

  await t.step("lets OTEL_SERVICE_NAME win over service.name", () => {
    const { attributes } = resourceWith({
      OTEL_RESOURCE_ATTRIBUTES: "service.name=roller",
      OTEL_SERVICE_NAME: "croupier",
    });
    assert.equal(attributes["service.name"], "croupier");
  });

  for (
    const malformed of [
      "team",
      "team=a=b",
      "=x",
      "team=%zz",
      `team=${"x".repeat(256)}`,
    ]
  ) {
    await t.step(
      `ignores ${
        JSON.stringify(malformed.slice(0, 12))
      } as a whole and says so`,
      () => {
        const { attributes, warnings } = resourceWith({
          OTEL_RESOURCE_ATTRIBUTES: `good=1,${malformed}`,
        });
        assert.equal(attributes["good"], undefined);
        assert.equal(attributes["service.name"], "dice");
        assert.equal(warnings.length, 1);
        assert.match(
          warnings[0],
          /^OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value pairs.*; ignoring it$/,
        );
      },
    );
  }
});

Deno.test("newSampler() makes the sampler OTEL_TRACES_SAMPLER names", () => {
  const cases = {
    always_on: "AlwaysOnSampler",
    always_off: "AlwaysOffSampler",
    traceidratio: "TraceIdRatioBased{0.25}",
    parentbased_always_on: "ParentBased{root=AlwaysOnSampler",
    parentbased_always_off: "ParentBased{root=AlwaysOffSampler",
    parentbased_traceidratio: "ParentBased{root=TraceIdRatioBased{0.25}",
  } as const;
  for (const [name, description] of Object.entries(cases)) {
    const sampler = newSampler({
      name: name as keyof typeof cases,
      ratio: 0.25,
    });
    assert.ok(
      sampler.toString().startsWith(description),
      `${name}: ${sampler}`,
    );
  }
});

Deno.test("newPropagator() uses only what OTEL_PROPAGATORS names", () => {
  assert.deepEqual(newPropagator(["baggage"]).fields(), ["baggage"]);
  assert.deepEqual(newPropagator([]).fields(), []);
  assert.deepEqual(newPropagator().fields(), [
    "traceparent",
    "tracestate",
    "baggage",
  ]);
});

Deno.test("setupOTelSDK() with OTEL_SDK_DISABLED records nothing but still propagates", async () => {
  const exporter = new CountingExporter();
  const shutdown = await setupCounting(exporter, {
    ...DEFAULT_CONFIG,
    sdkDisabled: true,
  });
  try {
    assert.equal(trace.getTracer("t").startSpan("s").isRecording(), false);
    assert.deepEqual(propagation.fields(), [
      "traceparent",
      "tracestate",
      "baggage",
    ]);
    logs.getLogger("t").emit({ body: "hello" });
    metrics.getMeter("t").createCounter("c").add(1);
  } finally {
    await shutdown();
  }
  assert.equal(exporter.exported, 0);
  assert.equal(exporter.shutdowns, 0, "no provider was even built");
});

Deno.test("setupOTelSDK() samples as configured", async () => {
  const exporter = new CountingExporter();
  const shutdown = await setupOTelSDK({
    config: { ...DEFAULT_CONFIG, sampler: { name: "always_off", ratio: 1 } },
    spanExporter: exporter,
    metricExporter: new CountingExporter(),
    logRecordExporter: new CountingExporter(),
  });
  try {
    const span = trace.getTracer("t").startSpan("s");
    assert.equal(span.isRecording(), false);
    assert.ok(
      trace.isSpanContextValid(span.spanContext()),
      "still a valid context to propagate",
    );
    span.end();
  } finally {
    await shutdown();
  }
  assert.equal(exporter.exported, 0);
});

Deno.test("setupOTelSDK() counts what the batch processors export in otel.sdk.* metrics", async () => {
  const sdk = await setupTestSDK();
  try {
    trace.getTracer("t").startSpan("s").end();
    logs.getLogger("t").emit({ body: "hello" });
  } finally {
    await sdk.shutdown();
  }
  const spans = sdk.metric("otel.sdk.processor.span.processed");
  const records = sdk.metric("otel.sdk.processor.log.processed");
  assert.equal(
    spans?.dataPoints.reduce((sum, point) => sum + (point.value as number), 0),
    1,
  );
  assert.equal(
    records?.dataPoints.reduce(
      (sum, point) => sum + (point.value as number),
      0,
    ),
    1,
  );
  assert.equal(
    sdk.metric("otel.sdk.processor.span.queue.capacity")?.dataPoints[0].value,
    2048,
  );
});
