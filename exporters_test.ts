import assert from "node:assert/strict";
import { OTLPTraceExporter as OTLPJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { DEFAULT_CONFIG } from "./config.ts";
import {
  newLogRecordExporters,
  newMetricExporters,
  newSpanExporters,
} from "./exporters.ts";
import { DURATION_BUCKETS } from "./otel_http.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout_exporter.ts";
import {
  type Json,
  parseDocuments,
  type ServiceProcess,
  startOtlpReceiver,
  startService,
} from "./testing.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const noEnv = () => undefined;

Deno.test("newSpanExporters() makes what OTEL_TRACES_EXPORTER names", () => {
  const stdout = {};
  const [console_, proto] = newSpanExporters(
    { exporters: ["console", "otlp"], protocol: "http/protobuf" },
    stdout,
    noEnv,
  );
  assert.ok(console_ instanceof StdoutSpanExporter);
  assert.ok(proto instanceof OTLPProtoTraceExporter);
  const [json] = newSpanExporters(
    { exporters: ["otlp"], protocol: "http/json" },
    stdout,
    noEnv,
  );
  assert.ok(json instanceof OTLPJsonTraceExporter);
  assert.deepEqual(
    newSpanExporters({ exporters: [], protocol: "http/json" }, stdout, noEnv),
    [],
  );
  assert.ok(
    newMetricExporters(DEFAULT_CONFIG.metrics, stdout, noEnv)[0] instanceof
      StdoutMetricExporter,
  );
  assert.ok(
    newLogRecordExporters(DEFAULT_CONFIG.logs, stdout, noEnv)[0] instanceof
      StdoutLogRecordExporter,
  );
});

Deno.test("newSpanExporters() refuses an OTLP endpoint the permissions forbid", () => {
  const env = (name: string) =>
    name === "OTEL_EXPORTER_OTLP_ENDPOINT"
      ? "http://collector.invalid:4318"
      : undefined;
  assert.throws(
    () =>
      newSpanExporters(
        { exporters: ["otlp"], protocol: "http/protobuf" },
        {},
        env,
      ),
    /^Error: the OTLP traces endpoint collector\.invalid:4318 is not in dice's network permissions; add "collector\.invalid:4318" to permissions\.default\.net in deno\.json, or run deno run -P --allow-net=collector\.invalid:4318 main\.ts$/,
  );
});

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
async function runAgainst(endpoint: string, env: Record<string, string> = {}) {
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
  await service.signalGroup("INT");
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
  assertDegradedGracefully(await runAgainst(url), /ECONNREFUSED/);
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

Deno.test("OTLP to a collector that never answers: shutdown ends within the export timeout", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<
    Response
  >();
  const collector = brokenCollector(() => released);
  try {
    assertDegradedGracefully(
      await runAgainst(collector.url),
      /timeout|timed out/i,
    );
  } finally {
    release(new Response());
    await collector.close();
  }
});
