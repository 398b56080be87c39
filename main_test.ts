import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import denoJson from "./deno.json" with { type: "json" };
import { newHTTPHandler } from "./main.ts";
import { readConfig } from "./internal/config.ts";
import { OTELHTTP_SCOPE_VERSION } from "./otelhttp/mod.ts";
import {
  type Json,
  ourStderrLines,
  parseDocuments,
  runToExit,
  setupTestSDK,
  spanNamed,
  startService,
  TEST_INFO,
} from "./testing.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

Deno.test("newHTTPHandler() serves the dice routes with full telemetry", async (t) => {
  const sdk = await setupTestSDK();
  const answers: Array<[string, number, string]> = [];
  try {
    const handler = newHTTPHandler();
    for (
      const [method, path] of [
        ["GET", "/rolldice/Alice"],
        ["GET", "/rolldice"],
        ["GET", "/rolldice/"],
        ["POST", "/rolldice/Bob"],
        ["GET", "/rolldice/a/b"],
        ["GET", "/rolldice/%E0%A4%A"],
      ]
    ) {
      const response = await handler(
        new Request(`http://localhost:8080${path}`, { method }),
        TEST_INFO,
      );
      answers.push([
        `${method} ${path}`,
        response.status,
        await response.text(),
      ]);
    }
  } finally {
    await sdk.shutdown();
  }

  await t.step(
    "answers a roll on /rolldice, /rolldice/ and /rolldice/{player}, any method",
    () => {
      for (const [request, status, body] of answers.slice(0, 4)) {
        assert.equal(status, 200, request);
        assert.match(body, /^[1-6]\n$/, request);
      }
    },
  );

  await t.step(
    "answers 404 for other paths and 400 for broken percent-encoding",
    () => {
      assert.deepEqual(answers.slice(4), [
        ["GET /rolldice/a/b", 404, "404 page not found\n"],
        [
          "GET /rolldice/%E0%A4%A",
          400,
          "400 bad request: malformed percent-encoding in path\n",
        ],
      ]);
    },
  );

  await t.step("names each server span after its route", () => {
    const servers = sdk.spans().filter((span) => span.kind === SpanKind.SERVER);
    assert.deepEqual(
      servers.map((span) => [span.name, span.attributes["http.route"]]),
      [
        ["GET /rolldice/{player}", "/rolldice/{player}"],
        ["GET /rolldice", "/rolldice"],
        ["GET /rolldice/", "/rolldice/"],
        ["POST /rolldice/{player}", "/rolldice/{player}"],
        ["GET", undefined],
        // Rejected by the router before the route's handler: no route.
        ["GET", undefined],
      ],
    );
  });

  await t.step("makes each roll span a child of its server span", () => {
    const server = spanNamed(sdk.spans(), "POST /rolldice/{player}");
    const rolls = sdk.spans().filter((span) => span.name === "roll");
    assert.equal(rolls.length, 4);
    const bobs = rolls.filter((span) =>
      span.parentSpanContext?.spanId === server.spanContext().spanId
    );
    assert.equal(bobs.length, 1);
    assert.equal(bobs[0].spanContext().traceId, server.spanContext().traceId);
  });

  await t.step("records the duration by route, never by player", () => {
    const duration = sdk.metric("http.server.request.duration");
    const byRoute = duration?.dataPoints.map((point) => [
      point.attributes["http.request.method"],
      point.attributes["http.route"],
      point.attributes["http.response.status_code"],
      (point.value as Histogram).count,
    ]);
    assert.deepEqual(byRoute, [
      ["GET", "/rolldice/{player}", 200, 1],
      ["GET", "/rolldice", 200, 1],
      ["GET", "/rolldice/", 200, 1],
      ["POST", "/rolldice/{player}", 200, 1],
      ["GET", undefined, 404, 1],
      ["GET", undefined, 400, 1],
    ]);
    assert.ok(!JSON.stringify(duration).includes("Alice"));
  });
});

Deno.test("deno task start: a terminal's Ctrl+C flushes every signal and exits 0", async (t) => {
  const service = await startService(["deno", "task", "start"]);
  const base = `http://127.0.0.1:${service.port}`;
  const first = await fetch(`${base}/rolldice/Alice`, {
    headers: {
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      "user-agent": "e2e",
    },
  });
  const roll = Number(await first.text());
  await (await fetch(`${base}/rolldice`)).text();
  await (await fetch(`${base}/nope`)).text();
  // One Ctrl+C: SIGINT to the whole group, which deno task then forwards.
  await service.signalGroup("INT");
  const { code, stdout, stderr } = await service.exited();
  const documents = parseDocuments(stdout);
  const spans = documents.filter((doc) => "SpanContext" in doc);
  const records = documents.filter((doc) => "Body" in doc);
  const collections = documents.filter((doc) => "ScopeMetrics" in doc);

  await t.step(
    "exits 0 after one shutdown, with messages on stderr only",
    () => {
      assert.equal(code, 0, stderr);
      const lines = ourStderrLines(stderr).filter((line) =>
        line.startsWith("dice:")
      );
      assert.equal(lines.length, 3, stderr);
      assert.match(lines[0], /^dice: listening on http:\/\/\[::\]:\d+\/ /);
      assert.equal(
        lines[1],
        "dice: SIGINT: shutting down (send it again to exit at once)",
      );
      // Everything produced was written whole: nothing lost.
      assert.equal(
        lines[2],
        `dice: in all: spans to console: ${spans.length} produced, ` +
          `${spans.length} confirmed, 0 lost; log records to console: ` +
          `${records.length} produced, ${records.length} confirmed, 0 lost; ` +
          "metrics to console: 0 exports failed, final collection delivered",
      );
      assert.equal(
        documents.length,
        spans.length + records.length + collections.length,
      );
    },
  );

  await t.step("the server span continues the incoming trace", () => {
    const server = spans.find((span) => span.Name === "GET /rolldice/{player}");
    assert.ok(server, JSON.stringify(spans.map((span) => span.Name)));
    assert.equal(server.SpanKind, 2);
    assert.equal(server.SpanContext.TraceID, TRACE_ID);
    assert.deepEqual(server.Parent, {
      TraceID: TRACE_ID,
      SpanID: PARENT_ID,
      TraceFlags: "01",
      TraceState: "",
      Remote: true,
    });
    const attributes = Object.fromEntries(
      server.Attributes.map((kv: Json) => [kv.Key, kv.Value.Value]),
    );
    assert.equal(attributes["http.route"], "/rolldice/{player}");
    assert.equal(attributes["user_agent.original"], "e2e");
    assert.equal(attributes["client.address"], "127.0.0.1");
    assert.equal(attributes["server.port"], service.port);
  });

  await t.step(
    "the roll span is its child, and the log record is correlated",
    () => {
      const server = spans.find((span) =>
        span.Name === "GET /rolldice/{player}"
      )!;
      const rollSpan = spans.find((span) =>
        span.Name === "roll" && span.Parent.SpanID === server.SpanContext.SpanID
      );
      assert.ok(rollSpan);
      assert.deepEqual(rollSpan.Attributes, [{
        Key: "roll.value",
        Value: { Type: "INT64", Value: roll },
      }]);
      const alice = records.find((record) =>
        record.Body.Value === "Alice is rolling the dice"
      );
      assert.ok(alice);
      assert.equal(alice.TraceID, TRACE_ID);
      assert.equal(alice.SpanID, rollSpan.SpanContext.SpanID);
      assert.deepEqual(alice.Attributes, [{
        Key: "result",
        Value: { Type: "INT64", Value: roll },
      }]);
      assert.ok(
        records.some((record) =>
          record.Body.Value === "Anonymous player is rolling the dice"
        ),
      );
    },
  );

  await t.step(
    "the last collection holds dice.rolls and the request durations",
    () => {
      const last = collections[collections.length - 1];
      assert.ok(last, "no metrics were printed");
      const all = last.ScopeMetrics.flatMap((scope: Json) => scope.Metrics);
      const rolls = all.find((metric: Json) => metric.Name === "dice.rolls");
      const total = rolls.Data.DataPoints.reduce(
        (sum: number, point: Json) => sum + point.Value,
        0,
      );
      assert.equal(total, 2);
      const duration = all.find((metric: Json) =>
        metric.Name === "http.server.request.duration"
      );
      assert.equal(duration.Unit, "s");
      const count = duration.Data.DataPoints.reduce(
        (sum: number, point: Json) => sum + point.Count,
        0,
      );
      assert.equal(count, 3);
    },
  );

  await t.step("the resource says dice on Deno", () => {
    const resource = Object.fromEntries(
      spans[0].Resource.map((kv: Json) => [kv.Key, kv.Value.Value]),
    );
    assert.equal(resource["service.name"], "dice");
    assert.equal(resource["process.runtime.name"], "deno");
  });
});

Deno.test("main.ts exits at once on a second Ctrl+C during a slow shutdown", async () => {
  // Nobody reads stdout, so the exporters' writes wait once the pipe is
  // full, and the final flush cannot finish: a slow shutdown.
  const service = await startService(["deno", "run", "-P", "main.ts"], {}, {
    holdStdout: true,
  });
  for (let i = 0; i < 40; i++) {
    await (await fetch(`http://127.0.0.1:${service.port}/rolldice/Player${i}`))
      .text();
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a batch is written
  await service.signalGroup("INT");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(
    await service.hasExited(),
    false,
    "the shutdown is stuck on the full pipe",
  );
  await service.signalGroup("INT");
  const { code, stderr } = await service.exited();
  assert.equal(code, 130, stderr);
  assert.match(
    stderr,
    /^dice: SIGINT: shutting down \(send it again to exit at once\)$/m,
  );
  assert.match(
    stderr,
    /^dice: SIGINT again: exiting without waiting for the shutdown$/m,
  );
});

Deno.test("main.ts gives up a shutdown that takes longer than DICE_SHUTDOWN_TIMEOUT", async () => {
  // As above, nobody reads stdout: the final flush cannot finish.
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_SHUTDOWN_TIMEOUT: "1500",
  }, { holdStdout: true });
  for (let i = 0; i < 40; i++) {
    await (await fetch(`http://127.0.0.1:${service.port}/rolldice/Player${i}`))
      .text();
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a batch is written
  await service.signalGroup("TERM");
  const { code, stderr } = await service.exited();
  assert.equal(code, 1, stderr);
  // The totals first, every span never written counted lost; then why.
  const lines = ourStderrLines(stderr);
  assert.match(
    lines.at(-2)!,
    /^dice: in all: spans to console: 80 produced, \d+ confirmed, \d+ lost; log records to console: 40 produced, \d+ confirmed, \d+ lost; metrics to console: \d+ exports failed, final collection not delivered$/,
  );
  assert.match(
    lines.at(-1)!,
    /^dice: shutdown did not finish within 1500 ms \(DICE_SHUTDOWN_TIMEOUT\); exiting without waiting any longer, and the telemetry not yet delivered is lost, as counted above; \d+ bytes of telemetry never reached stdout$/,
  );
});

Deno.test("main.ts, behind a slow stdout at the deadline: whole documents only, each one counted", async () => {
  const child = new Deno.Command("deno", {
    args: ["run", "-P", "main.ts"],
    env: { PORT: "0", NO_COLOR: "1", DICE_SHUTDOWN_TIMEOUT: "2000" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderrText = "";
  const stderr = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) stderrText += chunk;
    return stderrText;
  })();
  // A reader of about 40 KB/s, as a slow terminal or log shipper reads.
  const chunks: Uint8Array[] = [];
  const reader = child.stdout.getReader({ mode: "byob" });
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(4096));
      if (done || value === undefined) return;
      chunks.push(value);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  let port: number | undefined;
  for (let i = 0; i < 1500 && port === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    port =
      Number(/listening on http:\/\/[^ ]+:(\d+)\//.exec(stderrText)?.[1]) ||
      undefined;
  }
  assert.ok(port, "the service listens");
  for (let i = 0; i < 200; i++) {
    await (await fetch(`http://127.0.0.1:${port}/rolldice/p${i}`)).text();
  }
  child.kill("SIGTERM");
  const { code } = await child.status;
  await reading;
  const lines = ourStderrLines(await stderr);
  // Once stdout starts no new document, the shutdown may end in time.
  assert.ok(code === 0 || code === 1, lines.join("\n"));
  // parseDocuments throws on a document cut in half.
  const written = new TextDecoder().decode(
    new Uint8Array(chunks.flatMap((chunk) => [...chunk])),
  );
  const documents = parseDocuments(written);
  const spans = documents.filter((doc) => "SpanContext" in doc).length;
  const records = documents.filter((doc) => "Body" in doc).length;
  const totals = lines.find((line) => line.startsWith("dice: in all: "));
  assert.match(
    totals ?? lines.join("\n"),
    new RegExp(
      `^dice: in all: spans to console: 400 produced, ${spans} confirmed, ` +
        `${400 - spans} lost; log records to console: 200 produced, ` +
        `${records} confirmed, ${200 - records} lost; `,
    ),
  );
  assert.ok(spans < 400, "the deadline cut the flush short");
});

Deno.test("main.ts flushes everything even while a client holds its request open", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_SHUTDOWN_TIMEOUT: "4000",
  });
  await (await fetch(`http://127.0.0.1:${service.port}/rolldice/Alice`)).text();
  // A body shorter than its Content-Length: the request never ends.
  const stuck = await Deno.connect({
    hostname: "127.0.0.1",
    port: service.port,
  });
  await stuck.write(
    new TextEncoder().encode(
      "POST /rolldice/Bob HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await service.signalGroup("TERM");
  const { code, stdout, stderr } = await service.exited();
  stuck.close();
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /^dice: connections still open after 1000 ms; flushing the telemetry without waiting for them$/m,
  );
  const documents = parseDocuments(stdout);
  assert.ok(documents.some((doc) => doc.Name === "GET /rolldice/{player}"));
  assert.ok(documents.some((doc) => doc.ScopeMetrics !== undefined));
});

Deno.test("main.ts shuts down on SIGHUP as on SIGINT: everything flushed, exit 0", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"]);
  await (await fetch(`http://127.0.0.1:${service.port}/rolldice/Alice`)).text();
  await service.signalGroup("HUP");
  const { code, stdout, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^dice: SIGHUP: shutting down/m);
  const names = parseDocuments(stdout).map((doc) =>
    doc.Name ?? doc.Body?.Value ?? doc.ScopeMetrics?.[0]?.Scope.Name
  );
  assert.ok(names.includes("GET /rolldice/{player}"), stdout);
  assert.ok(names.includes("roll"), stdout);
  assert.ok(names.includes("Alice is rolling the dice"), stdout);
});

Deno.test("main.ts serves a request with a body with nothing on stderr but its own lines", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"]);
  const response = await fetch(
    `http://127.0.0.1:${service.port}/rolldice/Bob`,
    {
      method: "POST",
      body: "a body the handler does not read",
    },
  );
  await response.text();
  await service.signalGroup("INT");
  const { code, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  // Deno prints a notice when a copy of the request reads its signal.
  const others = stderr.split("\n").filter((line) =>
    line !== "" && !line.startsWith("dice: ") && !line.includes("Warning")
  );
  assert.deepEqual(others, []);
});

Deno.test("main.ts prints one compact document per line with DICE_CONSOLE_FORMAT=compact", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_CONSOLE_FORMAT: "compact",
    OTEL_SERVICE_NAME: "croupier",
  });
  await (await fetch(
    `http://127.0.0.1:${service.port}/rolldice/${
      encodeURIComponent("Eve\n\x1b[31m")
    }`,
  )).text();
  await service.signalGroup("TERM");
  const { code, stdout, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split("\n");
  const documents = lines.map((line) => JSON.parse(line));
  assert.ok(documents.length >= 4, stdout);
  const record = documents.find((doc) => "Body" in doc);
  assert.equal(record.Body.Value, "Eve\n\x1b[31m is rolling the dice");
  assert.ok(!stdout.includes("\x1b"), "no raw escape reaches the terminal");
  const resource = Object.fromEntries(
    record.Resource.map((kv: Json) => [kv.Key, kv.Value.Value]),
  );
  assert.equal(resource["service.name"], "croupier");
});

Deno.test("main.ts refuses a bad setting with one line on stderr", async (t) => {
  const cases: Array<[string, Record<string, string>, number, RegExp]> = [
    [
      "an invalid PORT",
      { PORT: "http" },
      2,
      /^dice: PORT must be an integer from 0 to 65535, got "http"$/,
    ],
    [
      "OTEL_DENO=true",
      { OTEL_DENO: "true" },
      1,
      /^dice: OTEL_DENO is set: Deno's built-in OpenTelemetry/,
    ],
  ];
  for (const [name, env, expectedCode, message] of cases) {
    await t.step(name, async () => {
      const { code, stdout, stderr } = await runToExit([
        "deno",
        "run",
        "-P",
        "main.ts",
      ], env);
      assert.equal(code, expectedCode, stderr);
      assert.equal(stdout, "");
      const lines = ourStderrLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], message);
    });
  }

  await t.step("a port already in use", async () => {
    using listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
    const port = String(listener.addr.port);
    const { code, stdout, stderr } = await runToExit([
      "deno",
      "run",
      "-P",
      "main.ts",
    ], { PORT: port });
    assert.equal(code, 1, stderr);
    assert.equal(stdout, "");
    assert.deepEqual(ourStderrLines(stderr), [
      `dice: port ${port} is already in use; set PORT to a free port`,
    ]);
  });

  await t.step("the Prometheus port in use: one line, exit 1", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = String(listener.addr.port);
    const { code, stdout, stderr } = await runToExit(
      ["deno", "run", "-P", "main.ts"],
      {
        PORT: "0",
        OTEL_METRICS_EXPORTER: "prometheus",
        OTEL_EXPORTER_PROMETHEUS_HOST: "127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT: port,
      },
    );
    assert.equal(code, 1, stderr);
    assert.equal(stdout, "");
    assert.deepEqual(ourStderrLines(stderr), [
      "dice: cannot set up OpenTelemetry: OTEL_EXPORTER_PROMETHEUS_PORT " +
      `${port} is already in use on 127.0.0.1; set ` +
      "OTEL_EXPORTER_PROMETHEUS_PORT to a free port",
    ]);
  });

  await t.step("a bad Prometheus port: one line, exit 2", async () => {
    const { code, stdout, stderr } = await runToExit(
      ["deno", "run", "-P", "main.ts"],
      {
        PORT: "0",
        OTEL_METRICS_EXPORTER: "console,prometheus",
        OTEL_EXPORTER_PROMETHEUS_PORT: "metrics",
      },
    );
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.deepEqual(ourStderrLines(stderr), [
      "dice: OTEL_EXPORTER_PROMETHEUS_PORT must be an integer from 1 to " +
      '65535, got "metrics"',
    ]);
  });

  await t.step(
    "a bad OTEL_* value is a warning, and the service starts",
    async () => {
      const service = await startService(["deno", "run", "-P", "main.ts"], {
        OTEL_BSP_SCHEDULE_DELAY: "soon",
      });
      await service.signalGroup("TERM");
      const { code, stderr } = await service.exited();
      assert.equal(code, 0);
      assert.match(
        stderr,
        /^dice: OTEL_BSP_SCHEDULE_DELAY must be a non-negative integer number of milliseconds up to 2147483647, got "soon"; using 1000$/m,
      );
    },
  );

  await t.step(
    "no permissions at all: one line that says -P, exit 1",
    async () => {
      const { code, stderr } = await runToExit(
        ["deno", "run", "--no-prompt", "main.ts"],
      );
      assert.equal(code, 1, stderr);
      const lines = ourStderrLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0],
        /^dice: Requires env access to .*; run deno task start, or deno run -P main\.ts/,
      );
    },
  );

  await t.step("a port it may not listen on: one line, exit 1", async () => {
    const { code, stdout, stderr } = await runToExit(
      ["deno", "run", "--allow-env", "--no-prompt", "main.ts"],
      { PORT: "0" },
    );
    assert.equal(code, 1, stderr);
    assert.equal(stdout, "");
    const lines = ourStderrLines(stderr);
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      /^dice: cannot listen on port 0: Requires net access/,
    );
  });

  for (
    const [name, raw] of [
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"],
      ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "javascript:alert(1)"],
      ["OTEL_EXPORTER_OTLP_HEADERS", "api key=secret"],
    ]
  ) {
    await t.step(`${name}=${raw} stops it before serving, exit 2`, async () => {
      const { code, stdout, stderr } = await runToExit(
        ["deno", "run", "-P", "main.ts"],
        { [name]: raw, PORT: "0", OTEL_TRACES_EXPORTER: "otlp" },
      );
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      const lines = ourStderrLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], new RegExp(`^dice: ${name} must be `));
      assert.doesNotMatch(lines[0], /secret/);
    });
  }
});

Deno.test("main.ts outlives a flood of idle connections that exhausts its file descriptors", async (t) => {
  // A limit of 200 descriptors, so that 300 idle connections exhaust it.
  const service = await startService([
    "prlimit",
    "--nofile=200:200",
    "deno",
    "run",
    "-P",
    "main.ts",
  ]);
  const url = `http://127.0.0.1:${service.port}/rolldice/Alice`;
  const flood: Deno.TcpConn[] = [];
  await t.step(
    "keeps running while 300 idle connections are open",
    async () => {
      for (let i = 0; i < 300; i++) {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: service.port,
        })
          .catch(() => undefined);
        if (conn) flood.push(conn);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(service.hasExited(), false);
    },
  );
  await t.step("answers again once the flood has closed", async () => {
    for (const conn of flood) conn.close();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await fetch(url).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      }, () => 0);
    }
    assert.equal(status, 200);
  });
  await t.step("Ctrl+C still flushes everything and exits 0", async () => {
    await service.signalGroup("INT");
    const { code, stdout, stderr } = await service.exited();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /Uncaught|error: /);
    assert.match(
      stderr,
      /^dice: cannot accept connections on port \d+ \(.*Too many open files.*\)/m,
    );
    const documents = parseDocuments(stdout);
    assert.ok(documents.some((doc) => doc.Name === "GET /rolldice/{player}"));
    assert.ok(documents.some((doc) => doc.ScopeMetrics !== undefined));
  });
});

Deno.test("main.ts answers on IPv4 and IPv6 alike", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"]);
  for (const host of ["127.0.0.1", "[::1]"]) {
    const response = await fetch(
      `http://${host}:${service.port}/rolldice/Alice`,
    );
    assert.match(await response.text(), /^[1-6]\n$/, host);
  }
  await service.signalGroup("INT");
  const { code, stdout, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^dice: listening on http:\/\/\[::\]:\d+\//m);
  const clients = parseDocuments(stdout)
    .filter((doc) => doc.Name === "GET /rolldice/{player}")
    .map((doc) =>
      doc.Attributes.find((kv: Json) => kv.Key === "client.address").Value.Value
    );
  assert.deepEqual(clients.sort(), ["127.0.0.1", "::1"]);
});

Deno.test("main.ts listens where DICE_HOST says", async (t) => {
  for (
    const [host, answers, refuses] of [
      ["127.0.0.1", "127.0.0.1", "[::1]"],
      ["::1", "[::1]", "127.0.0.1"],
    ]
  ) {
    await t.step(
      `${host}: loopback only, said in the listening line`,
      async () => {
        const service = await startService(["deno", "run", "-P", "main.ts"], {
          DICE_HOST: host,
        });
        const response = await fetch(
          `http://${answers}:${service.port}/rolldice/Alice`,
        );
        assert.match(await response.text(), /^[1-6]\n$/);
        await assert.rejects(
          fetch(`http://${refuses}:${service.port}/rolldice/Alice`),
          TypeError,
        );
        await service.signalGroup("INT");
        const { code, stderr } = await service.exited();
        assert.equal(code, 0, stderr);
        assert.ok(
          ourStderrLines(stderr).includes(
            `dice: listening on http://${answers}:${service.port}/ ` +
              `(try http://${answers}:${service.port}/rolldice/Alice)`,
          ),
          stderr,
        );
      },
    );
  }

  await t.step("a bad value: one line, exit 2", async () => {
    const { code, stdout, stderr } = await runToExit(
      ["deno", "run", "-P", "main.ts"],
      { DICE_HOST: "http://127.0.0.1:8080", PORT: "0" },
    );
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.deepEqual(ourStderrLines(stderr), [
      "dice: DICE_HOST must be an IP address or a host name, such as " +
      '127.0.0.1, ::1 or localhost, got "http://127.0.0.1:8080"',
    ]);
  });

  await t.step(
    "an address outside the permissions: the flag, in one line, exit 1",
    async () => {
      const { code, stdout, stderr } = await runToExit(
        ["deno", "run", "-P", "main.ts"],
        { DICE_HOST: "192.0.2.7", PORT: "0" },
      );
      assert.equal(code, 1, stderr);
      assert.equal(stdout, "");
      assert.deepEqual(ourStderrLines(stderr), [
        "dice: DICE_HOST 192.0.2.7 is not in dice's network permissions; " +
        "run deno run -P --allow-net=192.0.2.7 main.ts, or add " +
        '"192.0.2.7" to permissions.default.net in deno.json',
      ]);
    },
  );
});

/** Sends raw bytes to the service and returns what comes back until it closes. */
async function rawRequest(
  port: number,
  bytes: string,
  { readReply = true } = {},
): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(bytes));
  if (!readReply) return "";
  let reply = "";
  const buffer = new Uint8Array(65536);
  const deadline = AbortSignal.timeout(5000);
  while (!deadline.aborted) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    reply += new TextDecoder().decode(buffer.subarray(0, n));
    if (/\r\n\r\n/.test(reply) && /content-length: (\d+)/i.test(reply)) {
      const length = Number(/content-length: (\d+)/i.exec(reply)![1]);
      if (reply.length >= reply.indexOf("\r\n\r\n") + 4 + length) break;
    }
  }
  return reply;
}

Deno.test("main.ts answers hostile requests correctly and keeps valid telemetry", async (t) => {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_CONSOLE_FORMAT: "compact",
  });
  const base = `http://127.0.0.1:${service.port}`;
  const statuses: Record<string, number> = {};
  async function send(name: string, path: string, init?: RequestInit) {
    const response = await fetch(base + path, init);
    await response.body?.cancel();
    statuses[name] = response.status;
  }
  await send("8000-character name", `/rolldice/${"a".repeat(8000)}`);
  await send("10000-character name", `/rolldice/${"a".repeat(10000)}`);
  await send("unicode", "/rolldice/%E2%9C%93%20J%C3%BCrgen");
  await send(
    "control characters",
    "/rolldice/%0A%0D%1B%5B2J%1B%5D0%3Bpwned%07%00%7F%C2%9B",
  );
  await send("empty segment", "/rolldice//");
  await send("extra segment", "/rolldice/a/b");
  await send("malformed escape", "/rolldice/%E0%A4%A");
  await send("unknown method", "/rolldice/Bob", { method: "BREW" });
  await send("HEAD", "/rolldice", { method: "HEAD" });
  await send("OPTIONS", "/rolldice", { method: "OPTIONS" });
  await send("POST with a body", "/rolldice/Carol", {
    method: "POST",
    body: "x".repeat(100_000),
  });
  await send("malformed traceparent", "/rolldice/Dan", {
    headers: { traceparent: "00-xyz" },
  });
  const dotdot = await rawRequest(
    service.port,
    "GET /rolldice/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const lowercase = await rawRequest(
    service.port,
    "get /rolldice/Eve HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const hugeHeader = await rawRequest(
    service.port,
    `GET /rolldice/Frank HTTP/1.1\r\nHost: x\r\nX-Big: ${
      "b".repeat(1_000_000)
    }\r\n\r\n`,
  ).catch((error) => `failed: ${error}`);
  await rawRequest(service.port, "GET /rolldice/Gone HTTP/1.1\r\nHo", {
    readReply: false,
  });
  await rawRequest(
    service.port,
    "GET /rolldice/Gone HTTP/1.1\r\nHost: x\r\n\r\n",
    { readReply: false },
  );
  await send("still serving", "/rolldice/Zoe");
  await service.signalGroup("TERM");
  const { code, stdout, stderr } = await service.exited();

  await t.step(
    "every request gets the right answer, and the service keeps serving",
    () => {
      assert.deepEqual(statuses, {
        "8000-character name": 200,
        "10000-character name": 414,
        "unicode": 200,
        "control characters": 200,
        "empty segment": 404,
        "extra segment": 404,
        "malformed escape": 400,
        "unknown method": 200,
        "HEAD": 200,
        "OPTIONS": 200,
        "POST with a body": 200,
        "malformed traceparent": 200,
        "still serving": 200,
      });
      assert.match(dotdot, /^HTTP\/1\.1 404 /, "/rolldice/.. is /");
      assert.match(lowercase, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(hugeHeader, /^HTTP\/1\.1 200 /);
      assert.equal(code, 0, stderr);
    },
  );

  const documents = stdout.trimEnd().split("\n").map((line) =>
    JSON.parse(line)
  );
  const spans = documents.filter((doc) => "SpanContext" in doc);
  const records = documents.filter((doc) => "Body" in doc);

  await t.step("no raw control character reaches stdout", () => {
    const raw = [...stdout].filter((char) => {
      const code = char.charCodeAt(0);
      return (code < 0x20 && char !== "\n") || (code >= 0x7f && code <= 0x9f);
    });
    assert.deepEqual(raw, []);
    const bodies = records.map((record) => record.Body.Value);
    assert.ok(
      bodies.includes(
        "\n\r\x1b[2J\x1b]0;pwned\x07\x00\x7f\x9b is rolling the dice",
      ),
      "escaped, not lost",
    );
    assert.ok(bodies.includes("✓ Jürgen is rolling the dice"));
  });

  await t.step("no user input becomes a span name", () => {
    const names = [...new Set(spans.map((span) => span.Name))].sort();
    assert.deepEqual(names, [
      "GET", // 400, 404 and 414: no route
      "GET /rolldice/{player}",
      "HEAD /rolldice",
      "HTTP /rolldice/{player}", // BREW and get are _OTHER
      "OPTIONS /rolldice",
      "POST /rolldice/{player}",
      "roll",
    ]);
  });

  await t.step("no user input becomes a metric attribute", () => {
    const collections = documents.filter((doc) => "ScopeMetrics" in doc);
    const points = collections.at(-1).ScopeMetrics.flatMap((scope: Json) =>
      scope.Metrics
    )
      .filter((metric: Json) => metric.Name.startsWith("http.server."))
      .flatMap((metric: Json) => metric.Data.DataPoints);
    const keys = new Set(
      points.flatMap((point: Json) =>
        point.Attributes.map((kv: Json) => kv.Key)
      ),
    );
    assert.deepEqual(
      [...keys].sort(),
      [
        "error.type",
        "http.request.method",
        "http.response.status_code",
        "http.route",
        "url.scheme",
      ]
        .filter((key) => key !== "error.type").sort(),
    );
    const values = JSON.stringify(
      points.map((point: Json) => point.Attributes),
    );
    for (const input of ["aaaa", "Jürgen", "pwned", "Bob", "BREW", "get"]) {
      assert.ok(!values.includes(input), input);
    }
  });

  await t.step("long values are cut at the attribute limit", () => {
    const longest = Math.max(
      ...spans.flatMap((span) =>
        span.Attributes.map((kv: Json) => String(kv.Value.Value).length)
      ),
    );
    assert.equal(longest, 4096);
  });
});

Deno.test("main.ts answers 400 to a malformed Host, with no stack trace", async (t) => {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_CONSOLE_FORMAT: "compact",
  });
  const hosts = ["a b", "x:99999", "x:notaport", "%zz", "h/rolldice", "e?q"];
  const replies: string[] = [];
  for (const host of hosts) {
    replies.push(
      await rawRequest(
        service.port,
        `GET /Alice HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
  }
  await service.signalGroup("TERM");
  const { code, stdout, stderr } = await service.exited();
  const spans = parseDocuments(stdout).filter((doc) => doc.Name === "GET");
  for (const [i, host] of hosts.entries()) {
    await t.step(JSON.stringify(host), () => {
      assert.match(replies[i], /^HTTP\/1\.1 400 /);
      assert.match(replies[i], /400 bad request: malformed Host header\n$/);
    });
  }
  await t.step(
    "a server span for each, and nothing but the usual lines on stderr",
    () => {
      assert.equal(code, 0, stderr);
      assert.equal(spans.length, hosts.length);
      assert.deepEqual(
        ourStderrLines(stderr).map((line) => line.split(" ")[1]),
        [
          "listening",
          "SIGTERM:",
          "in",
        ],
      );
    },
  );
});

Deno.test("main.ts flushes the telemetry of every request it served when SIGTERM comes under load", async () => {
  const service = await startService(["deno", "run", "-P", "main.ts"], {
    DICE_CONSOLE_FORMAT: "compact",
  });
  let served = 0;
  let stopped = false;
  const clients = Array.from({ length: 8 }, async (_, client) => {
    for (let i = 0; !stopped; i++) {
      try {
        const response = await fetch(
          `http://127.0.0.1:${service.port}/rolldice/c${client}r${i}`,
        );
        if (
          response.status === 200 && /^[1-6]\n$/.test(await response.text())
        ) served++;
      } catch {
        // Refused or cut once the shutdown has begun.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await service.signalGroup("TERM");
  const { code, stdout, stderr } = await service.exited();
  stopped = true;
  await Promise.all(clients);

  assert.equal(code, 0, stderr);
  const documents = stdout.trimEnd().split("\n").map((line) =>
    JSON.parse(line)
  );
  const servers = documents.filter((doc) =>
    doc.Name === "GET /rolldice/{player}"
  );
  const rolls = documents.filter((doc) => doc.Name === "roll");
  const records = documents.filter((doc) => "Body" in doc);
  const metrics = documents.filter((doc) => "ScopeMetrics" in doc).at(-1)
    .ScopeMetrics.flatMap((scope: Json) => scope.Metrics);
  const sum = (name: string, field: string) =>
    metrics.find((metric: Json) => metric.Name === name).Data.DataPoints
      .reduce((total: number, point: Json) => total + point[field], 0);

  assert.ok(served > 50, `only ${served} requests were served`);
  // The server may have served a request whose answer the client lost in
  // the shutdown; it never loses the telemetry of one the client got.
  assert.ok(
    servers.length >= served,
    `${servers.length} server spans for ${served} answers`,
  );
  assert.equal(rolls.length, servers.length);
  assert.equal(records.length, servers.length);
  assert.equal(sum("dice.rolls", "Value"), servers.length);
  assert.equal(sum("http.server.request.duration", "Count"), servers.length);
  assert.doesNotMatch(stderr, /Dropped|could not be written/);
});

/** Whether HrTime `a` is not later than `b`. */
function notAfter(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
}

Deno.test("newHTTPHandler() puts every child span and log record inside its parent, over 1,000 requests", async () => {
  const sdk = await setupTestSDK();
  try {
    const handler = newHTTPHandler();
    for (let i = 0; i < 1000; i++) {
      const response = await handler(
        new Request(`http://localhost:8080/rolldice/p${i}`),
        TEST_INFO,
      );
      await response.body?.cancel();
    }
  } finally {
    await sdk.shutdown();
  }
  const spans = sdk.spans();
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const rolls = spans.filter((span) => span.name === "roll");
  assert.equal(rolls.length, 1000);
  for (const roll of rolls) {
    const parent = byId.get(roll.parentSpanContext!.spanId)!;
    assert.ok(
      notAfter(parent.startTime, roll.startTime) &&
        notAfter(roll.endTime, parent.endTime),
      `roll ${roll.startTime}..${roll.endTime} outside ${parent.name} ` +
        `${parent.startTime}..${parent.endTime}`,
    );
  }
  const records = sdk.logRecords();
  assert.equal(records.length, 1000);
  for (const record of records) {
    const roll = byId.get(record.spanContext!.spanId)!;
    assert.ok(
      notAfter(roll.startTime, record.hrTime) &&
        notAfter(record.hrTime, roll.endTime),
      `log record at ${record.hrTime} outside roll ${roll.startTime}..${roll.endTime}`,
    );
  }
});

// deno.json: the permission sets that main.ts runs, compiles and is tested with.

Deno.test("deno.json runs every Deno command of every task with -P, never -A", () => {
  for (const [name, task] of Object.entries(denoJson.tasks)) {
    const command = task.command;
    assert.doesNotMatch(
      command,
      /(^|\s)(-A|--allow-all|--allow-\w+)(\s|=|$)/,
      name,
    );
    for (const run of command.matchAll(/deno (run|test|compile)\b[^&]*/g)) {
      assert.match(run[0], /\s-P(=[\w-]+)?(\s|$)/, `${name}: ${run[0]}`);
    }
  }
});

Deno.test("deno.json turns off the Deno CLI's update check in every task", () => {
  // Otherwise `deno run` may connect to Deno's download host, which the
  // service's permission set does not name.
  for (const [name, task] of Object.entries(denoJson.tasks)) {
    let exported = false;
    for (const part of task.command.split("&&").map((p) => p.trim())) {
      if (part === "export DENO_NO_UPDATE_CHECK=1") exported = true;
      if (!/(^|\s)deno\s/.test(part) || exported) continue;
      assert.match(part, /^DENO_NO_UPDATE_CHECK=1 deno\s/, `${name}: ${part}`);
    }
  }
});

Deno.test("deno.json declares each permission set once and uses it by name", () => {
  assert.deepEqual(Object.keys(denoJson.permissions), [
    "default",
    "test",
    "bench",
    "bench-service",
    "serve",
    "build",
  ]);
  // The launcher of deno task serve runs deno, and reads what it maps.
  assert.deepEqual(denoJson.permissions.serve, {
    env: ["PORT", "DICE_HOST", "DENO_JOBS"],
    run: ["deno"],
  });
  assert.equal(denoJson.test.permissions, "test");
  assert.equal(denoJson.bench.permissions, "test");
  assert.equal(denoJson.compile.permissions, "default");
  assert.equal(JSON.stringify(denoJson).includes('"all"'), false);
});

Deno.test("plain deno test answers with Deno's hint to use -P", async () => {
  const { code, stderr } = await runToExit([
    "deno",
    "test",
    "--no-check",
    "main_test.ts",
  ]);
  assert.notEqual(code, 0);
  assert.match(
    stderr,
    /Test permissions were found in the config file\. Did you mean to run with `-P`/,
  );
});

Deno.test("the service's permission set grants what it needs and nothing more", async () => {
  // A probe next to the service, run exactly as `deno task start` runs it.
  await Deno.mkdir(".build", { recursive: true });
  const probe = ".build/permission_probe.ts";
  await Deno.writeTextFile(
    probe,
    `import "../main.ts";
const descriptors = {
  "env PORT": { name: "env", variable: "PORT" },
  "env OTEL_SERVICE_NAME": { name: "env", variable: "OTEL_SERVICE_NAME" },
  "env DICE_CONSOLE_FORMAT": { name: "env", variable: "DICE_CONSOLE_FORMAT" },
  "listen 0.0.0.0:8080": { name: "net", host: "0.0.0.0:8080" },
  "listen [::]:8080": { name: "net", host: "[::]:8080" },
  "listen localhost:9464 (Prometheus)": { name: "net", host: "localhost:9464" },
  "sys ca": { name: "sys", kind: "ca" },
  "connect localhost:4318": { name: "net", host: "localhost:4318" },
  "env HOME": { name: "env", variable: "HOME" },
  "connect example.com:443": { name: "net", host: "example.com:443" },
  "read": { name: "read" },
  "write": { name: "write" },
  "run": { name: "run" },
  "ffi": { name: "ffi" },
  "sys": { name: "sys" },
  "import": { name: "import", host: "example.com" },
};
const states = {};
for (const [name, descriptor] of Object.entries(descriptors)) {
  states[name] = Deno.permissions.querySync(descriptor).state;
}
console.log(JSON.stringify(states));
`,
  );
  try {
    const { code, stdout, stderr } = await runToExit([
      "deno",
      "run",
      "-P",
      "--no-prompt",
      probe,
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      "env PORT": "granted",
      "env OTEL_SERVICE_NAME": "granted",
      "env DICE_CONSOLE_FORMAT": "granted",
      "listen 0.0.0.0:8080": "granted",
      "listen [::]:8080": "granted",
      "listen localhost:9464 (Prometheus)": "granted",
      "sys ca": "granted",
      "connect localhost:4318": "granted",
      "env HOME": "prompt",
      "connect example.com:443": "prompt",
      "read": "prompt",
      "write": "prompt",
      "run": "prompt",
      "ffi": "prompt",
      "sys": "prompt",
      "import": "prompt",
    });
  } finally {
    await Deno.remove(probe);
  }
});

Deno.test("deno.json's version is the version of the service's scopes and resource", async () => {
  const sdk = await setupTestSDK();
  try {
    const response = await newHTTPHandler()(
      new Request("http://localhost:8080/rolldice/Alice"),
      TEST_INFO,
    );
    await response.body?.cancel();
  } finally {
    await sdk.shutdown();
  }
  assert.equal(OTELHTTP_SCOPE_VERSION, denoJson.version);
  for (const span of sdk.spans()) {
    assert.equal(span.instrumentationScope.version, denoJson.version);
    assert.equal(span.resource.attributes["service.version"], denoJson.version);
  }
  assert.equal(
    sdk.logRecords()[0].instrumentationScope.version,
    denoJson.version,
  );
});

// `deno task compile`: one executable. It needs a `denort` runtime, which
// `deno compile` downloads unless DENORT_BIN points at one; where neither
// works (no internet, no DENORT_BIN), the test reports itself ignored, never
// passed.

const BINARY = "./.build/dice";

async function compile(): Promise<{ ok: boolean; stderr: string }> {
  await Deno.mkdir(".build", { recursive: true });
  const { success, stderr } = await new Deno.Command("deno", {
    args: ["compile", "-P", "--output", BINARY, "main.ts"],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { ok: success, stderr: new TextDecoder().decode(stderr) };
}

const compiled = await compile();
const denortMissing = !compiled.ok && !Deno.env.get("DENORT_BIN") &&
  /denort|dl\.deno\.land|error sending request|dns error/i.test(
    compiled.stderr,
  );
// An ignored test says in its name, on its one line, what it needs.
Deno.test({
  name:
    "deno task compile builds one executable that serves and flushes telemetry" +
    (denortMissing
      ? " (skipped: deno compile cannot download denort here; set DENORT_BIN to a denort binary)"
      : ""),
  ignore: denortMissing,
  async fn() {
    assert.ok(compiled.ok, `deno compile failed:\n${compiled.stderr}`);
    try {
      const service = await startService([BINARY]);
      const response = await fetch(
        `http://127.0.0.1:${service.port}/rolldice/Alice`,
      );
      assert.match(await response.text(), /^[1-6]\n$/);
      await service.signalGroup("INT");
      const { code, stdout, stderr } = await service.exited();
      assert.equal(code, 0, stderr);
      const names = parseDocuments(stdout).map((doc) =>
        doc.Name ?? (doc.Body as { Value: string })?.Value
      );
      assert.ok(names.includes("GET /rolldice/{player}"), stdout);
      assert.ok(names.includes("Alice is rolling the dice"), stdout);
    } finally {
      await Deno.remove(BINARY).catch(() => {});
    }
  },
});

// OTEL_METRICS_EXPORTER=prometheus, scraped by a real Prometheus server
// (Debian's prometheus package; .ci/run installs it where it can). Where
// the binary is missing, the test reports itself ignored, never passed.

// NotFound only: a missing run permission is a bug in deno.json, not a
// reason to skip.
async function hasPrometheus(): Promise<boolean> {
  try {
    const command = new Deno.Command("prometheus", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    });
    return (await command.output()).success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

const prometheusMissing = !await hasPrometheus();

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** Polls `url` until `done` accepts its JSON, for at most 60 s; returns the last. */
async function pollJson(url: string, done: (json: Json) => boolean) {
  const deadline = Date.now() + 60_000;
  let json: Json = undefined;
  while (Date.now() < deadline) {
    json = await fetch(url).then((r) => r.ok ? r.json() : undefined)
      .catch(() => undefined);
    if (json !== undefined && done(json)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return json;
}

Deno.test({
  name:
    "OTEL_METRICS_EXPORTER=prometheus: a real Prometheus scrapes dice and counts every roll" +
    (prometheusMissing
      ? " (skipped: needs the prometheus binary: apt-get install --no-install-recommends prometheus)"
      : ""),
  ignore: prometheusMissing,
  async fn() {
    const metricsPort = freePort();
    const service = await startService(["deno", "run", "-P", "main.ts"], {
      OTEL_METRICS_EXPORTER: "prometheus",
      OTEL_EXPORTER_PROMETHEUS_HOST: "127.0.0.1",
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_TRACES_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
    });
    await Deno.mkdir(".build", { recursive: true });
    const dir = await Deno.makeTempDir({
      dir: ".build",
      prefix: "prometheus-",
    });
    const target = `127.0.0.1:${metricsPort}`;
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: dice",
        "    static_configs:",
        `      - targets: ["${target}"]`,
        "",
      ].join("\n"),
    );
    const web = `127.0.0.1:${freePort()}`;
    const prometheus = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=${web}`,
        "--log.level=warn",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const prometheusOutput = prometheus.output();
    try {
      const rolls = 7;
      for (let i = 0; i < rolls; i++) {
        const response = await fetch(
          `http://127.0.0.1:${service.port}/rolldice/Alice`,
        );
        assert.match(await response.text(), /^[1-6]\n$/);
      }
      const query = encodeURIComponent("sum(dice_rolls_total)");
      const answer = await pollJson(
        `http://${web}/api/v1/query?query=${query}`,
        (json) => json.data?.result?.[0]?.value?.[1] === String(rolls),
      );
      assert.equal(answer?.status, "success", JSON.stringify(answer));
      assert.equal(answer.data.result[0].value[1], String(rolls));

      // Prometheus labels each series with the target it scraped.
      const series = await pollJson(
        `http://${web}/api/v1/query?query=dice_rolls_total`,
        (json) => json.data?.result?.length > 0,
      );
      for (const { metric } of series.data.result) {
        assert.equal(metric.job, "dice");
        assert.equal(metric.instance, target);
        assert.equal(metric.otel_scope_name, "dice");
        assert.match(metric.roll_value, /^[1-6]$/);
      }
      const info = await pollJson(
        `http://${web}/api/v1/query?query=target_info`,
        (json) => json.data?.result?.length > 0,
      );
      assert.equal(info.data.result[0].metric.service_name, "dice");
    } finally {
      prometheus.kill("SIGTERM");
      const { code: promCode, stderr: promStderr } = await prometheusOutput;
      await service.signalGroup("INT");
      const { code, stdout, stderr } = await service.exited();
      await Deno.remove(dir, { recursive: true });
      assert.equal(promCode, 0, new TextDecoder().decode(promStderr));
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "");
      // Nothing said but the start and the shutdown: no error.
      assert.deepEqual(ourStderrLines(stderr), [
        `dice: listening on http://[::]:${service.port}/ ` +
        `(try http://localhost:${service.port}/rolldice/Alice)`,
        "dice: SIGINT: shutting down (send it again to exit at once)",
      ]);
    }
  },
});

// The layout: the walkthrough's files at the top, the libraries in folders.

const LIBRARY_FOLDERS = ["otelhttp", "propagation", "exporters", "internal"];

/** Every `.ts` file below `folder`, relative to the repository. */
async function tsFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "node_modules") {
      files.push(...await tsFiles(path));
    } else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** The repository files that `file` imports by a relative specifier. */
async function relativeImports(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  const specifiers = [
    ...text.matchAll(/^(?:import|export)\s[^;]*?["'](\.[^"']+)["']/gm),
  ]
    .map((match) => match[1]);
  const base = new URL(file, `file://${Deno.cwd()}/`);
  return specifiers.map((specifier) =>
    new URL(specifier, base).pathname.slice(Deno.cwd().length + 1)
  );
}

Deno.test("the libraries never import the top-level files, and no import forms a cycle", async (t) => {
  const files = (await Promise.all(LIBRARY_FOLDERS.map(tsFiles))).flat();
  files.push("main.ts", "otel.ts", "rolldice.ts", "serve.ts", "testing.ts");
  const graph = new Map<string, string[]>();
  for (const file of files) graph.set(file, await relativeImports(file));

  await t.step("library folders import only library folders", () => {
    for (const file of files.filter((f) => f.includes("/"))) {
      // deno.json, the manifest, is read for the version, not for code.
      const upward = graph.get(file)!.filter((target) =>
        !target.includes("/") && target.endsWith(".ts")
      );
      assert.deepEqual(upward, [], `${file} imports the top level`);
    }
  });

  await t.step("no cycle", () => {
    const done = new Set<string>();
    function visit(file: string, path: string[]): void {
      if (path.includes(file)) {
        assert.fail(`import cycle: ${[...path, file].join(" -> ")}`);
      }
      if (done.has(file)) return;
      for (const target of graph.get(file) ?? []) {
        if (target.endsWith(".ts")) visit(target, [...path, file]);
      }
      done.add(file);
    }
    for (const file of graph.keys()) visit(file, []);
  });

  await t.step("the top level holds the walkthrough only", async () => {
    const top: string[] = [];
    for await (const entry of Deno.readDir(".")) {
      if (entry.isFile && entry.name.endsWith(".ts")) top.push(entry.name);
    }
    assert.deepEqual(top.sort(), [
      "main.ts",
      "main_test.ts",
      "otel.ts",
      "otel_test.ts",
      "rolldice.ts",
      "rolldice_test.ts",
      "serve.ts",
      "serve_test.ts",
      "testing.ts",
    ]);
  });
});

// Lines that are not blank, not comments, and not part of an import: what
// the developers' guide limits.
function codeLines(text: string): number {
  let count = 0;
  let inComment = false;
  let inImport = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (inComment) {
      inComment = !line.includes("*/");
      continue;
    }
    if (line === "" || line.startsWith("//")) continue;
    if (line.startsWith("/*")) {
      inComment = !line.includes("*/");
      continue;
    }
    const ends = /\bfrom\s+["'][^"']+["'];?$/.test(line) ||
      /^import\s+["']/.test(line);
    if (inImport) {
      inImport = !ends;
      continue;
    }
    if (/^import\s/.test(line) || /^export\s.*\bfrom\s/.test(line)) {
      inImport = !ends;
      continue;
    }
    count++;
  }
  return count;
}

Deno.test("the walkthrough's files stay as short as Go's, and no source file grows past 400 lines", async (t) => {
  const limits = { "main.ts": 70, "otel.ts": 120, "rolldice.ts": 50 };
  for (const [file, limit] of Object.entries(limits)) {
    await t.step(`${file}: at most ${limit} code lines`, async () => {
      const count = codeLines(await Deno.readTextFile(file));
      assert.ok(count <= limit, `${file} has ${count} code lines`);
    });
  }
  await t.step("setupOTelSDK: at most 45 code lines", async () => {
    const otel = await Deno.readTextFile("otel.ts");
    const start = otel.indexOf("export async function setupOTelSDK(");
    const body = otel.slice(start, otel.indexOf("\n}\n", start) + 2);
    assert.ok(start >= 0);
    const count = codeLines(body);
    assert.ok(count <= 45, `setupOTelSDK has ${count} code lines`);
  });
  await t.step(
    "no source file over 400 lines, tests and bench/ aside",
    async () => {
      const sources = [
        ...(await Promise.all([...LIBRARY_FOLDERS, "tools"].map(tsFiles)))
          .flat(),
        "main.ts",
        "otel.ts",
        "rolldice.ts",
        "serve.ts",
        "testing.ts",
      ].filter((file) => !file.endsWith("_test.ts"));
      for (const file of sources) {
        const lines = (await Deno.readTextFile(file)).split("\n").length;
        assert.ok(lines <= 400, `${file} has ${lines} lines`);
      }
    },
  );
  await t.step("the counter counts code, not comments or imports", () => {
    const text = [
      'import { a } from "./a.ts";',
      "import {",
      "  b,",
      '} from "./b.ts";',
      "/** A doc. */",
      "// why",
      "",
      "const c = a + b;",
      "/*",
      " * more",
      " */",
      "export { c };",
    ].join("\n");
    assert.equal(codeLines(text), 2);
  });
});

Deno.test("newHTTPHandler() records the methods OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS names", async () => {
  const sdk = await setupTestSDK();
  try {
    const config = readConfig(
      (name) =>
        name === "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS" ? "BREW" : undefined,
      () => {},
    );
    const handler = newHTTPHandler(config);
    for (const method of ["BREW", "GET"]) {
      const response = await handler(
        new Request("http://localhost:8080/rolldice/Alice", { method }),
        TEST_INFO,
      );
      await response.text();
    }
  } finally {
    await sdk.shutdown();
  }
  const servers = sdk.spans().filter((span) => span.kind === SpanKind.SERVER)
    .map((span) => [span.name, span.attributes["http.request.method"]]);
  assert.deepEqual(servers, [
    ["BREW /rolldice/{player}", "BREW"],
    ["HTTP /rolldice/{player}", "_OTHER"],
  ]);
});
