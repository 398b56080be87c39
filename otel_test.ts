import assert from "node:assert/strict";
import {
  context,
  logs,
  metrics,
  propagation,
  type ProxyTracerProvider,
  ROOT_CONTEXT,
  trace,
} from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import type {
  LoggerProvider,
  LogRecordExporter,
} from "@opentelemetry/sdk-logs";
import {
  MeterProvider,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { type Config, DEFAULT_CONFIG } from "./internal/config.ts";
import { BATCH_DEFAULTS } from "./internal/sdk_config.ts";
import {
  type Answer,
  type FakeCollector,
  fakeCollector,
} from "./exporters/otlp/_fake_collector.ts";
import { stdoutSink } from "./exporters/stdout/mod.ts";
import { newPropagator, setupOTelSDK } from "./otel.ts";
import { DURATION_BUCKETS } from "./otelhttp/mod.ts";
import {
  type Json,
  parseDocuments,
  type ServiceProcess,
  setupTestSDK,
  startOtlpReceiver,
  startService,
} from "./testing.ts";

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
  const warnings: string[] = [];
  try {
    await assert.rejects(
      setupOTelSDK({
        config: DEFAULT_CONFIG,
        spanExporter: exporter,
        metricExporter: exporter,
        warn: (message) => warnings.push(message),
      }),
      /cannot register the OpenTelemetry tracer provider: .*OTEL_DENO/,
    );
    // The API says so too, through diag: one line, without its stack trace.
    assert.deepEqual(warnings, [
      "otel error: Error: @opentelemetry/api: Attempted duplicate registration of API: trace",
    ]);
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

Deno.test("setupOTelSDK() records the otel.sdk.* metrics only with DICE_SDK_METRICS", async (t) => {
  async function sdkMetricsAfterOneSpanAndRecord(sdkMetrics: boolean) {
    const sdk = await setupTestSDK({ ...DEFAULT_CONFIG, sdkMetrics });
    try {
      trace.getTracer("t").startSpan("s").end();
      logs.getLogger("t").emit({ body: "hello" });
      // The processors count once their batch is exported.
      const global = trace.getTracerProvider() as ProxyTracerProvider;
      await (global.getDelegate() as TracerProvider).forceFlush();
      await (logs.getLoggerProvider() as LoggerProvider).forceFlush();
      await sdk.collectMetrics();
    } finally {
      await sdk.shutdown();
    }
    return sdk;
  }

  await t.step("off by default, as Go's are", async () => {
    const sdk = await sdkMetricsAfterOneSpanAndRecord(false);
    assert.equal(sdk.metric("otel.sdk.processor.span.processed"), undefined);
    assert.equal(sdk.metric("otel.sdk.processor.log.processed"), undefined);
  });

  await t.step(
    "on: what the batch processors processed, and their capacity",
    async () => {
      const sdk = await sdkMetricsAfterOneSpanAndRecord(true);
      const sum = (name: string) =>
        sdk.metric(name)?.dataPoints.reduce(
          (total, point) => total + (point.value as number),
          0,
        );
      assert.equal(sum("otel.sdk.processor.span.processed"), 1);
      assert.equal(sum("otel.sdk.processor.log.processed"), 1);
      assert.equal(
        sdk.metric("otel.sdk.processor.span.queue.capacity")?.dataPoints[0]
          .value,
        2048,
      );
    },
  );
});

// The service as a real process, exporting over OTLP to a real receiver.

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

const OTLP_EVERYWHERE = {
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_LOGS_EXPORTER: "otlp",
};

/** Rolls for Alice with a traceparent, then stops the service with SIGINT. */
async function rollOnceAndStop(service: ServiceProcess) {
  const response = await fetch(
    `http://127.0.0.1:${service.port}/rolldice/Alice`,
    {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    },
  );
  const roll = Number(await response.text());
  await service.signalGroup("INT");
  return { roll, ...await service.exited() };
}

/**
 * Starts a receiver, runs the service with `env(receiverUrl)`, rolls once
 * for Alice with a traceparent, stops both, and returns what each saw.
 */
async function rollThroughReceiver(
  env: (url: string) => Record<string, string>,
) {
  const receiver = await startOtlpReceiver();
  try {
    const service = await startService(
      ["deno", "run", "-P", "main.ts"],
      env(receiver.url),
    );
    return { ...await rollOnceAndStop(service), received: receiver.received };
  } finally {
    await receiver.close();
  }
}

function attributesOf(resource: Json): Record<string, unknown> {
  return resource.attributes;
}

for (const protocol of ["http/protobuf", "http/json"]) {
  Deno.test(`OTLP over ${protocol} delivers every signal to a real receiver`, async (t) => {
    const result = await rollThroughReceiver((url) => ({
      ...OTLP_EVERYWHERE,
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_HEADERS: "x-team=dice",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
    }));
    const { roll, code, stdout, stderr } = result;
    const of = (signal: string) =>
      result.received.filter((r) => r.signal === signal).map((r) => r.data);

    await t.step("exits 0 and prints nothing on stdout", () => {
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "");
    });

    await t.step(
      "with the protocol's content type, the headers, and the standard paths",
      () => {
        const requests = of("request");
        const contentType = protocol === "http/json"
          ? "application/json"
          : "application/x-protobuf";
        assert.deepEqual(
          [...new Set(requests.map((request) => request.path))].sort(),
          ["/v1/logs", "/v1/metrics", "/v1/traces"],
        );
        for (const request of requests) {
          assert.equal(request.headers["content-type"], contentType);
          assert.equal(request.headers["x-team"], "dice");
        }
      },
    );

    await t.step(
      "the server and roll spans, linked to each other and to the remote parent",
      () => {
        const resourceSpans = of("traces").flatMap((data) =>
          data.resourceSpans
        );
        const spans = resourceSpans.flatMap((rs: Json) =>
          rs.scopeSpans.flatMap((ss: Json) => ss.spans)
        );
        const server = spans.find((span: Json) =>
          span.name === "GET /rolldice/{player}"
        );
        const rollSpan = spans.find((span: Json) => span.name === "roll");
        assert.ok(server && rollSpan, JSON.stringify(spans));
        assert.equal(server.kind, "SPAN_KIND_SERVER");
        assert.equal(server.traceId, TRACE_ID);
        assert.equal(server.parentSpanId, PARENT_ID);
        assert.equal(server.attributes["http.route"], "/rolldice/{player}");
        assert.equal(server.attributes["http.response.status_code"], 200);
        assert.equal(rollSpan.parentSpanId, server.spanId);
        assert.equal(rollSpan.attributes["roll.value"], roll);
        const resource = attributesOf(resourceSpans[0].resource);
        assert.equal(resource["service.name"], "dice");
        assert.equal(resource["deployment.environment.name"], "test");
        assert.equal(resource["process.runtime.name"], "deno");
      },
    );

    await t.step("the log record, correlated with the roll span", () => {
      const records = of("logs").flatMap((data) =>
        data.resourceLogs.flatMap((rl: Json) =>
          rl.scopeLogs.flatMap((sl: Json) => sl.logRecords)
        )
      );
      assert.equal(records.length, 1);
      const [record] = records;
      assert.equal(record.body, "Alice is rolling the dice");
      assert.equal(record.severityNumber, 9);
      assert.equal(record.attributes.result, roll);
      assert.equal(record.traceId, TRACE_ID);
      const spans = of("traces").flatMap((data) =>
        data.resourceSpans.flatMap((rs: Json) =>
          rs.scopeSpans.flatMap((ss: Json) => ss.spans)
        )
      );
      assert.equal(
        record.spanId,
        spans.find((span: Json) => span.name === "roll").spanId,
      );
    });

    await t.step(
      "dice.rolls and http.server.request.duration with their units and buckets",
      () => {
        const last = of("metrics").at(-1);
        const metrics = last.resourceMetrics.flatMap((rm: Json) =>
          rm.scopeMetrics.flatMap((sm: Json) => sm.metrics)
        );
        const rolls = metrics.find((metric: Json) =>
          metric.name === "dice.rolls"
        );
        assert.equal(rolls.unit, "{roll}");
        assert.equal(rolls.sum.isMonotonic, true);
        assert.equal(Number(rolls.sum.dataPoints[0].asInt), 1);
        assert.equal(rolls.sum.dataPoints[0].attributes["roll.value"], roll);
        const duration = metrics.find((metric: Json) =>
          metric.name === "http.server.request.duration"
        );
        assert.equal(duration.unit, "s");
        const [point] = duration.histogram.dataPoints;
        assert.deepEqual(point.explicitBounds, DURATION_BUCKETS);
        assert.equal(Number(point.count), 1);
        assert.equal(point.attributes["http.route"], "/rolldice/{player}");
      },
    );
  });
}

Deno.test("OTLP and console together: OTEL_TRACES_EXPORTER=otlp,console", async () => {
  const result = await rollThroughReceiver((url) => ({
    OTEL_TRACES_EXPORTER: "otlp,console",
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
  }));
  assert.equal(result.code, 0, result.stderr);
  const printed = parseDocuments(result.stdout).map((doc) => doc.Name);
  assert.deepEqual(printed.sort(), ["GET /rolldice/{player}", "roll"]);
  const paths = result.received.filter((r) => r.signal === "request").map((
    r,
  ) => r.data.path);
  assert.deepEqual(
    [...new Set(paths)],
    ["/v1/traces"],
    "nothing but traces was sent",
  );
});

Deno.test("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is", async () => {
  const result = await rollThroughReceiver((url) => ({
    ...OTLP_EVERYWHERE,
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/custom/spans`,
  }));
  assert.equal(result.code, 0, result.stderr);
  const paths = result.received.filter((r) => r.signal === "request").map((
    r,
  ) => r.data.path);
  assert.deepEqual([...new Set(paths)].sort(), [
    "/custom/spans",
    "/v1/logs",
    "/v1/metrics",
  ]);
});

/** Serves as a broken collector on 127.0.0.1 until closed. */
function brokenCollector(answer: (request: Request) => Promise<Response>) {
  const controller = new AbortController();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      signal: controller.signal,
      onListen() {},
    },
    answer,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

/** Runs the service against `endpoint`, rolls 50 times, stops it, and says how it went. */
async function runAgainst(
  endpoint: string,
  env: Record<string, string> = {},
  signal: "INT" | "TERM" = "INT",
) {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    ...OTLP_EVERYWHERE,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_BLRP_SCHEDULE_DELAY: "50",
    OTEL_METRIC_EXPORT_INTERVAL: "100",
    ...env,
  });
  const statuses = [];
  for (let i = 0; i < 50; i++) {
    const response = await fetch(
      `http://127.0.0.1:${service.port}/rolldice/p${i}`,
    );
    await response.text();
    statuses.push(response.status);
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // let exports fail a few times
  const stoppedAt = performance.now();
  await service.signalGroup(signal);
  const exited = await service.exited();
  const otelLines = exited.stderr.split("\n").filter((line) =>
    line.startsWith("dice: otel")
  );
  return {
    statuses,
    shutdownMillis: performance.now() - stoppedAt,
    otelLines,
    ...exited,
  };
}

function assertDegradedGracefully(
  result: Awaited<ReturnType<typeof runAgainst>>,
  cause: RegExp,
) {
  assert.deepEqual(
    new Set(result.statuses),
    new Set([200]),
    "every request was served",
  );
  // Dozens of failed exports, a bounded number of lines.
  assert.ok(result.otelLines.length >= 1, result.stderr);
  assert.ok(
    result.otelLines.length <= 25,
    `${result.otelLines.length} lines:\n${result.stderr}`,
  );
  assert.match(result.stderr, cause);
  // The exports time out after 1 s; shutdown must not wait for the defaults (10 s, 30 s).
  assert.ok(
    result.shutdownMillis < 8000,
    `shutdown took ${result.shutdownMillis} ms`,
  );
  assert.equal(result.code, 0, "a lost batch does not fail the shutdown");
}

Deno.test("OTLP to a stopped collector: requests are served and failures reported at a bounded rate", async () => {
  const collector = brokenCollector(() => Promise.resolve(new Response()));
  const url = collector.url;
  await collector.close(); // nothing listens there any more
  const result = await runAgainst(url);
  assertDegradedGracefully(result, /connection refused/);
  // Said at once, with the endpoint and the cause, before the shutdown.
  const said = result.stderr.indexOf(
    `dice: cannot export traces to ${url}/v1/traces: connection refused`,
  );
  assert.ok(
    said >= 0 && said < result.stderr.indexOf("SIGINT"),
    result.stderr,
  );
});

Deno.test("OTLP to a collector answering 500", async () => {
  let requests = 0;
  const collector = brokenCollector(() => {
    requests++;
    return Promise.resolve(new Response("overloaded", { status: 500 }));
  });
  try {
    assertDegradedGracefully(await runAgainst(collector.url), /500/);
    assert.ok(requests > 3, `only ${requests} exports were tried`);
  } finally {
    await collector.close();
  }
});

Deno.test("OTLP to a collector that never answers: SIGINT and SIGTERM shut down within one export timeout", async (t) => {
  const { promise: released, resolve: release } = Promise.withResolvers<
    Response
  >();
  const collector = brokenCollector(() => released);
  try {
    for (const signal of ["INT", "TERM"] as const) {
      await t.step(`SIG${signal}`, async () => {
        const result = await runAgainst(collector.url, {
          OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
        }, signal);
        assertDegradedGracefully(result, /timeout|timed out/i);
        // The three signals' exports wait for the same collector at once:
        // one timeout, not one per signal.
        assert.ok(
          result.shutdownMillis < 2000 + 1500,
          `shutdown took ${result.shutdownMillis} ms`,
        );
        // Nothing was confirmed: everything produced is lost, and said.
        assert.match(
          result.stderr,
          /^dice: in all: spans to otlp: 100 produced, 0 confirmed, 100 lost; log records to otlp: 50 produced, 0 confirmed, 50 lost; metrics to otlp: \d+ exports failed, final collection not delivered$/m,
        );
        assert.match(
          result.stderr,
          /^dice: shutdown waits at most 2500 ms for the OTLP collector \(/m,
        );
      });
    }
  } finally {
    release(new Response());
    await collector.close();
  }
});

// Nothing lost without a number: the "in all" line against fake collectors.

/** The counts of one "in all" line, by entry: `spans to otlp` → [produced, confirmed, lost]. */
function parseInAll(warnings: string[]): Map<string, (number | string)[]> {
  const lines = warnings.filter((w) => w.startsWith("in all: "));
  assert.equal(lines.length, 1, `one "in all" line:\n${warnings.join("\n")}`);
  const entries = new Map<string, (number | string)[]>();
  for (const entry of lines[0].slice("in all: ".length).split("; ")) {
    const items = /^(.+ to \w+): (\d+) produced, (\d+) confirmed, (\d+) lost$/
      .exec(entry);
    if (items) {
      entries.set(items[1], items.slice(2).map(Number));
      continue;
    }
    const metric =
      /^(metrics to \w+): (\d+) exports failed, final collection (delivered|not delivered|empty)$/
        .exec(entry);
    assert.ok(metric, `an entry of the documented format: ${entry}`);
    entries.set(metric[1], [Number(metric[2]), metric[3]]);
  }
  return entries;
}

function otlpTo(url: string, signal: string, timeoutMillis: number) {
  return {
    exporters: ["otlp"],
    protocol: "http/json",
    endpoint: `${url}/v1/${signal}`,
    timeoutMillis,
    headers: {},
    compression: "none",
    certificates: {},
  } as Config["traces"];
}

/** A config exporting every signal to `url` over OTLP/JSON, fast. */
function otlpConfig(
  url: string,
  timeoutMillis: number,
  batch: Partial<Config["bsp"]> = {},
): Config {
  const fast = { ...BATCH_DEFAULTS, scheduledDelayMillis: 20, ...batch };
  return {
    ...DEFAULT_CONFIG,
    traces: otlpTo(url, "traces", timeoutMillis),
    metrics: otlpTo(url, "metrics", timeoutMillis),
    logs: otlpTo(url, "logs", timeoutMillis),
    bsp: fast,
    blrp: fast,
    // One metric export, the final one, at shutdown.
    metricExportIntervalMillis: 600_000,
    metricExportTimeoutMillis: timeoutMillis,
  };
}

/** Records `count` spans, log records and a counter increment each. */
function record(count: number): void {
  const counter = metrics.getMeter("t").createCounter("c");
  for (let i = 0; i < count; i++) {
    trace.getTracer("t").startSpan("s").end();
    logs.getLogger("t").emit({ body: "b" });
    counter.add(1);
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts the "in all" line gives what `collector` confirmed, exactly. */
function assertAccounted(
  warnings: string[],
  collector: FakeCollector,
  produced: number,
): Map<string, (number | string)[]> {
  const totals = parseInAll(warnings);
  const { spans, logRecords } = collector.confirmed;
  assert.deepEqual(totals.get("spans to otlp"), [
    produced,
    spans,
    produced - spans,
  ]);
  assert.deepEqual(totals.get("log records to otlp"), [
    produced,
    logRecords,
    produced - logRecords,
  ]);
  return totals;
}

// Answers as `plans` say, in turn for each path: the last one repeats.
function perPath(plans: Answer[]): (n: number, path: string) => Answer {
  const seen = new Map<string, number>();
  return (_n, path) => {
    const k = seen.get(path) ?? 0;
    seen.set(path, k + 1);
    return plans[Math.min(k, plans.length - 1)];
  };
}

Deno.test("setupOTelSDK() accounts for every span, log record and metric export, whatever the collector does", async (t) => {
  const cases: Array<
    [string, Answer[], { spans: number; final: string; https?: boolean }]
  > = [
    ["refuses", [], { spans: 0, final: "not delivered" }],
    ["hangs", [{ kind: "hang" }], { spans: 0, final: "not delivered" }],
    ["drips", [{ kind: "drip" }], { spans: 0, final: "not delivered" }],
    ["answers 429 with Retry-After, then 200", [
      { kind: "status", status: 429, retryAfter: "1" },
      { kind: "ok" },
    ], { spans: 10, final: "delivered" }],
    ["answers 503, then 200", [
      { kind: "status", status: 503 },
      { kind: "ok" },
    ], { spans: 10, final: "delivered" }],
    ["closes mid-response", [{ kind: "close mid-response" }], {
      spans: 0,
      final: "not delivered",
    }],
    ["serves garbage over TLS", [{ kind: "garbage" }], {
      spans: 0,
      final: "not delivered",
      https: true,
    }],
    ["rejects part of each batch", [{ kind: "ok", rejected: 3 }], {
      spans: 7,
      final: "not delivered",
    }],
  ];
  for (const [behaviour, plans, expected] of cases) {
    await t.step(`a collector that ${behaviour}`, async () => {
      const collector = fakeCollector(perPath(plans), { dripMillis: 50 });
      if (behaviour === "refuses") await collector.close();
      const url = expected.https
        ? collector.url.replace("http:", "https:")
        : collector.url;
      const warnings: string[] = [];
      const shutdown = await setupOTelSDK({
        // Long enough for a retry after a second where one is due.
        config: otlpConfig(url, plans.length > 1 ? 2500 : 800),
        warn: (message) => warnings.push(message),
      });
      try {
        record(10);
      } finally {
        await shutdown().catch(() => {});
      }
      const totals = assertAccounted(warnings, collector, 10);
      assert.equal(collector.confirmed.spans, expected.spans);
      assert.deepEqual(totals.get("metrics to otlp"), [
        expected.final === "delivered" ? 0 : 1,
        expected.final,
      ]);
      if (plans.length === 1 && expected.spans === 0) {
        // Every export was aborted: no connection is left open.
        await until(() => collector.openConnections === 0);
        assert.equal(collector.openConnections, 0, "no socket leaks");
      }
      await collector.close();
    });
  }
});

Deno.test("a failed export attempt is said at once, with its endpoint and cause, before the retry", async () => {
  const events: string[] = [];
  const collector = fakeCollector(
    perPath([{ kind: "status", status: 503 }, { kind: "ok" }]),
    { events },
  );
  const traces = `${collector.url}/v1/traces`;
  const { promise: recovered, resolve } = Promise.withResolvers<void>();
  const shutdown = await setupOTelSDK({
    config: otlpConfig(collector.url, 5000),
    warn(message) {
      events.push(`said: ${message}`);
      if (message.startsWith("exports of traces")) resolve();
    },
  });
  try {
    trace.getTracer("t").startSpan("s").end();
    await recovered;
  } finally {
    await shutdown();
  }
  const traceEvents = events.filter((e) => e.includes("traces"));
  assert.deepEqual(traceEvents.slice(0, 4), [
    "got: /v1/traces status",
    `said: cannot export traces to ${traces}: HTTP 503 Service ` +
    "Unavailable; each export " +
    "is retried for at most 5000 ms, and what is lost is counted",
    "got: /v1/traces ok",
    `said: exports of traces reach ${traces} again`,
  ]);
  await collector.close();
});

Deno.test("shutdown says once what it waits on, for how long at most, and that Ctrl+C again skips it", async () => {
  const collector = fakeCollector(() => ({ kind: "hang" }));
  const warnings: string[] = [];
  const shutdown = await setupOTelSDK({
    config: otlpConfig(collector.url, 1000),
    warn: (message) => warnings.push(message),
  });
  record(3);
  await until(() => collector.requests >= 2);
  await shutdown().catch(() => {});
  const waits = warnings.filter((w) => w.startsWith("shutdown waits"));
  assert.equal(waits.length, 1, warnings.join("\n"));
  assert.match(
    waits[0],
    /^shutdown waits at most 1500 ms for the OTLP collector \(.*traces: 1 exports under way.*\); Ctrl\+C again skips the wait/,
  );
  assert.ok(
    warnings.indexOf(waits[0]) <
      warnings.findIndex((w) => w.startsWith("in all: ")),
  );
  await collector.close();
});

Deno.test("at volume, with the queues overflowing and mixed faults, every span and log record is accounted for", async () => {
  const mixed: Answer[] = [
    { kind: "ok" },
    { kind: "ok", rejected: 5 },
    { kind: "status", status: 503, retryAfter: "0" },
    { kind: "close mid-response" },
    { kind: "ok" },
    { kind: "hang" },
    { kind: "status", status: 429, retryAfter: "0" },
    { kind: "drip" },
  ];
  const collector = fakeCollector((n) => mixed[n % mixed.length], {
    dripMillis: 20,
  });
  const written: Uint8Array[] = [];
  const sink = stdoutSink({
    output: {
      write(bytes) {
        written.push(bytes.slice());
        return Promise.resolve(bytes.length);
      },
    },
  });
  const config = otlpConfig(collector.url, 300, {
    maxQueueSize: 200,
    maxExportBatchSize: 50,
  });
  config.traces = { ...config.traces, exporters: ["otlp", "console"] };
  const warnings: string[] = [];
  const shutdown = await setupOTelSDK({
    config,
    sink,
    warn: (message) => warnings.push(message),
  });
  for (let burst = 0; burst < 20; burst++) {
    record(250);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await shutdown().catch(() => {});
  const totals = assertAccounted(warnings, collector, 5000);
  const [produced, confirmed, lost] = totals.get("spans to otlp") as number[];
  assert.ok(lost > 0 && confirmed > 0, `${produced} ${confirmed} ${lost}`);
  assert.ok(
    warnings.some((w) => w.includes("the batch queue was full")),
    "the queues overflowed",
  );
  // stdout confirmed exactly the documents it wrote.
  const text = new TextDecoder().decode(
    new Uint8Array(written.flatMap((chunk) => [...chunk])),
  );
  const documents = parseDocuments(text).length;
  assert.deepEqual(totals.get("spans to console"), [
    5000,
    documents,
    5000 - documents,
  ]);
  await collector.close();
});

Deno.test("stdout that closes or is stopped: whole documents only, and each one counted", async (t) => {
  for (const ending of ["closes", "is stopped"] as const) {
    await t.step(`stdout that ${ending}`, async () => {
      const written: number[] = [];
      let writes = 0;
      const sink = stdoutSink({
        output: {
          write(bytes) {
            writes++;
            if (ending === "closes" && writes > 3) {
              return Promise.reject(new Deno.errors.BrokenPipe("closed"));
            }
            if (ending === "is stopped" && writes === 3) sink.stop();
            // A slow pipe takes a little at a time.
            const taken = Math.min(bytes.length, 1000);
            written.push(...bytes.subarray(0, taken));
            return new Promise((resolve) => setTimeout(() => resolve(taken)));
          },
        },
        warn: () => {},
      });
      const config: Config = {
        ...DEFAULT_CONFIG,
        logs: { ...DEFAULT_CONFIG.logs, exporters: [] },
        metrics: { ...DEFAULT_CONFIG.metrics, exporters: [] },
        bsp: { ...BATCH_DEFAULTS, scheduledDelayMillis: 10 },
      };
      const warnings: string[] = [];
      const shutdown = await setupOTelSDK({
        config,
        sink,
        warn: (message) => warnings.push(message),
      });
      for (let i = 0; i < 40; i++) {
        trace.getTracer("t").startSpan("s").end();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await shutdown();
      // parseDocuments throws on a document cut in half: only a closed
      // pipe, which nobody reads any more, has one, at its end.
      let text = new TextDecoder().decode(new Uint8Array(written));
      if (ending === "closes") {
        text = text.slice(0, text.lastIndexOf("\n{") + 1);
      }
      const documents = parseDocuments(text).length;
      assert.ok(documents > 0 && documents < 40, `${documents} written`);
      assert.deepEqual(parseInAll(warnings).get("spans to console"), [
        40,
        documents,
        40 - documents,
      ]);
    });
  }
});
