import assert from "node:assert/strict";
import {
  type Json,
  ourStderrLines,
  parseDocuments,
  runToExit,
  startService,
} from "./testing.ts";

// Exactly what `deno task serve` runs (deno.json), in 2 workers.
const SERVE = ["deno", "run", "-q", "-P=serve", "tools/serve/main.ts"];
const TWO_WORKERS = { DENO_JOBS: "2" };

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The lines dice says, without Deno's own notices.
function diceLines(stderr: string): string[] {
  return ourStderrLines(stderr).filter((line) => line.startsWith("dice"));
}

function resourceId(doc: Json): string {
  const attributes = doc.Resource as Array<{ Key: string; Value: Json }>;
  const id = attributes.find((a) => a.Key === "service.instance.id");
  return String(id?.Value.Value);
}

/**
 * Sends `count` requests, `lanes` at a time, each in a trace of its own;
 * returns the trace IDs of those answered 200.
 */
async function load(
  port: number,
  count: number,
  lanes: number,
): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  async function lane(): Promise<void> {
    // A connection per request: the kernel spreads connections, not
    // requests, over the workers, and a few kept alive could all land on
    // one of them.
    using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    while (next++ < count) {
      const traceId = randomHex(16);
      try {
        const response = await fetch(
          `http://127.0.0.1:${port}/rolldice/Alice`,
          {
            client,
            headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` },
          },
        );
        await response.text();
        if (response.status === 200) answered.push(traceId);
      } catch {
        // refused once the workers stop accepting
      }
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane));
  return answered;
}

/**
 * A request whose body arrives `afterMillis` after `beforeRest` is called:
 * its worker cannot finish before then. Resolves to its trace ID once
 * answered.
 */
async function slowRequest(
  port: number,
  beforeRest: () => Promise<void>,
  afterMillis: number,
): Promise<string> {
  const traceId = randomHex(16);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  await conn.write(encoder.encode(
    "POST /rolldice/Slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n" +
      `traceparent: 00-${traceId}-${randomHex(8)}-01\r\n\r\n12345`,
  ));
  await beforeRest();
  await new Promise((resolve) => setTimeout(resolve, afterMillis));
  await conn.write(encoder.encode("67890"));
  const buffer = new Uint8Array(4096);
  const read = await conn.read(buffer);
  conn.close();
  const head = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  assert.match(head, /^HTTP\/1\.1 200 /);
  return traceId;
}

for (const format of ["pretty", "compact"] as const) {
  Deno.test(`deno task serve in 2 workers (${format}, through a pipe, under load): each answered request's telemetry exactly once, per worker, and Ctrl+C exits 0`, async () => {
    const port = freePort();
    const service = await startService(SERVE, {
      ...TWO_WORKERS,
      PORT: String(port),
      DICE_CONSOLE_FORMAT: format,
    });
    // Warm, then a request that holds one worker past the other's flush,
    // and Ctrl+C to the process group while the load goes on.
    const warm = await load(port, 200, 8);
    const loaded = load(port, 600, 8);
    const slow = slowRequest(port, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await service.signalGroup("INT");
    }, 1000);
    const answered = [...warm, ...await loaded, await slow];
    const { code, stdout, stderr } = await service.exited();
    assert.equal(code, 0, stderr);

    // Whole documents only: one that another worker cut would not parse.
    if (format === "compact") {
      assert.ok(stdout.split("\n").filter((l) => l).every((l) => l[0] === "{"));
    }
    const docs = parseDocuments(stdout);
    const spans = docs.filter((d) => "SpanContext" in d);
    const logs = docs.filter((d) => "SeverityText" in d);
    const metrics = docs.filter((d) => "ScopeMetrics" in d);

    // Exactly two instance ids, on every document.
    const ids = new Set(docs.map(resourceId));
    assert.equal(ids.size, 2, [...ids].join(", "));

    // Every answered request: its two spans and its log record, once.
    const byTrace = new Map<string, string[]>();
    for (const doc of [...spans, ...logs]) {
      const traceId = doc.SpanContext?.TraceID ?? doc.TraceID;
      const kinds = byTrace.get(traceId) ?? [];
      kinds.push("SpanContext" in doc ? doc.Name : "log");
      byTrace.set(traceId, kinds);
    }
    assert.ok(answered.length > warm.length, `${answered.length} answered`);
    for (const traceId of answered) {
      const kinds = (byTrace.get(traceId) ?? []).sort();
      assert.equal(kinds.length, 3, `${traceId}: ${kinds.join(", ")}`);
      assert.equal(kinds.filter((k) => k === "roll").length, 1);
      assert.equal(kinds.filter((k) => k === "log").length, 1);
    }

    // Each worker's dice.rolls, in its last metrics document, sums to the
    // requests it served: its roll spans.
    for (const id of ids) {
      const served = spans.filter((s) => s.Name === "roll")
        .filter((s) => resourceId(s) === id).length;
      const last = metrics.filter((m) => resourceId(m) === id).at(-1);
      const rolls = last?.ScopeMetrics.flatMap((s: Json) => s.Metrics)
        .find((m: Json) => m.Name === "dice.rolls");
      const sum = rolls.Data.DataPoints
        .reduce((total: number, p: Json) => total + p.Value, 0);
      assert.ok(served > 0, `worker ${id} served nothing`);
      assert.equal(sum, served, `worker ${id}`);
    }

    const lines = diceLines(stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^dice\\[worker [12]\\]: listening on http://\\[::\\]:${port}/ .*, in 2 workers$`,
      ),
    );
    assert.equal(
      lines[1],
      "dice[worker 1]: SIGINT: shutting down (send it again to exit at once)",
    );
    // Each worker says its own totals, naming itself: nothing lost.
    const totals = lines.slice(2).sort();
    assert.equal(totals.length, 2, lines.join("\n"));
    totals.forEach((line, i) =>
      assert.match(
        line,
        new RegExp(
          `^dice\\[worker ${i + 1}\\]: in all: spans to console: (\\d+) ` +
            "produced, \\1 confirmed, 0 lost; log records to console: (\\d+) " +
            "produced, \\2 confirmed, 0 lost; metrics to console: 0 exports " +
            "failed, final collection delivered$",
        ),
      )
    );
  });
}

Deno.test("deno task serve: a second Ctrl+C exits at once, the deadline exits 1 naming each worker", async (t) => {
  async function heldService(env: Record<string, string> = {}) {
    const port = freePort();
    // Nobody reads stdout until the end: the flush waits on a full pipe.
    const service = await startService(
      SERVE,
      { ...TWO_WORKERS, PORT: String(port), ...env },
      { holdStdout: true },
    );
    await load(port, 100, 4);
    return service;
  }

  await t.step(
    "a second Ctrl+C, after deno task's duplicate window",
    async () => {
      const service = await heldService();
      await service.signalGroup("INT");
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.ok(!service.hasExited(), "the flush waits for stdout");
      await service.signalGroup("INT");
      const { code, stderr } = await service.exited();
      assert.equal(code, 130, stderr);
      const [, shutdown, again] = diceLines(stderr);
      assert.equal(
        shutdown,
        "dice[worker 1]: SIGINT: shutting down (send it again to exit at once)",
      );
      assert.match(
        again,
        /^dice\[worker [12]\]: SIGINT again: exiting without waiting for the shutdown$/,
      );
    },
  );

  await t.step("DICE_SHUTDOWN_TIMEOUT", async () => {
    const service = await heldService({ DICE_SHUTDOWN_TIMEOUT: "1000" });
    await service.signalGroup("TERM");
    const { code, stderr } = await service.exited();
    assert.equal(code, 1, stderr);
    const deadline = diceLines(stderr).filter((line) =>
      line.includes("did not finish within 1000 ms")
    );
    assert.ok(deadline.length >= 1, stderr);
    assert.match(deadline[0], /^dice\[worker [12]\]: shutdown did not finish/);
  });
});

Deno.test("deno task serve: SIGHUP flushes and exits 0, as SIGTERM does", async () => {
  const port = freePort();
  const service = await startService(SERVE, {
    ...TWO_WORKERS,
    PORT: String(port),
    DICE_CONSOLE_FORMAT: "compact",
  });
  const answered = await load(port, 50, 4);
  await service.signalGroup("HUP");
  const { code, stdout, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  const rolls = parseDocuments(stdout).filter((d) => d.Name === "roll");
  assert.equal(rolls.length, answered.length);
  const lines = diceLines(stderr);
  assert.equal(
    lines[1],
    "dice[worker 1]: SIGHUP: shutting down (send it again to exit at once)",
  );
  assert.equal(
    lines.slice(2).filter((line) =>
      / in all: .* 0 lost; .* 0 lost; /.test(line)
    )
      .length,
    2,
    stderr,
  );
});

Deno.test("deno task serve: an instance id given in OTEL_RESOURCE_ATTRIBUTES stays distinct per worker, said at start", async () => {
  const port = freePort();
  const service = await startService(SERVE, {
    ...TWO_WORKERS,
    PORT: String(port),
    OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=pod-7",
    DICE_CONSOLE_FORMAT: "compact",
  });
  await load(port, 200, 8);
  await service.signalGroup("INT");
  const { code, stdout, stderr } = await service.exited();
  assert.equal(code, 0, stderr);
  const ids = new Set(parseDocuments(stdout).map(resourceId));
  assert.deepEqual([...ids].sort(), ["pod-7-1", "pod-7-2"]);
  assert.ok(
    diceLines(stderr).includes(
      'dice[worker 1]: OTEL_RESOURCE_ATTRIBUTES gives service.instance.id="pod-7", ' +
        'which 2 workers would share: worker N reports "pod-7-N"',
    ),
    stderr,
  );
});

Deno.test("deno task serve refuses, in one line and exit 2, what cannot work in several workers or at all", async (t) => {
  const cases: Array<[string, Record<string, string>, string, number]> = [
    ["PORT=0", { PORT: "0" }, "dice: PORT=0 cannot run in 2 workers", 2],
    ["a bad PORT", { PORT: "80a" }, "dice: PORT must be an integer", 2],
    ["a bad DICE_HOST", { DICE_HOST: "http://x" }, "dice: DICE_HOST must", 2],
    ["a bad DENO_JOBS", { DENO_JOBS: "two" }, "dice: DENO_JOBS must", 2],
    [
      "Prometheus",
      { OTEL_METRICS_EXPORTER: "prometheus" },
      "dice[worker 1]: OTEL_METRICS_EXPORTER=prometheus cannot run in 2 workers",
      2,
    ],
    [
      "a bad OTLP endpoint",
      {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "nowhere",
      },
      "dice[worker 1]: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      2,
    ],
    [
      "OTEL_DENO",
      { OTEL_DENO: "true" },
      "dice[worker 1]: OTEL_DENO is set",
      1,
    ],
  ];
  for (const [name, env, line, exitCode] of cases) {
    await t.step(name, async () => {
      const { code, stdout, stderr } = await runToExit(SERVE, {
        ...TWO_WORKERS,
        PORT: String(freePort()),
        ...env,
      });
      assert.equal(code, exitCode, stderr);
      assert.equal(stdout, "");
      const lines = diceLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0].startsWith(line), lines[0]);
    });
  }
});
