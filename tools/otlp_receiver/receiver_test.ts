/**
 * `deno task receiver`, run as a person runs it, with dice sending it real
 * OTLP exports over protobuf and over JSON.
 *
 * This file belongs to the service's test suite (the root deno.json takes
 * it back from the folder's exclusion): it only starts processes, so it
 * needs none of the receiver's npm packages.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ourStderrLines,
  runToExit,
  type ServiceProcess,
  startService,
} from "../../testing.ts";

const RECEIVER = ["deno", "task", "receiver"];

// Exports only at shutdown, so that the two spans of a request leave in one
// batch and each metric is printed once.
const ONLY_AT_SHUTDOWN = {
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_LOGS_EXPORTER: "otlp",
  OTEL_BSP_SCHEDULE_DELAY: "600000",
  OTEL_BLRP_SCHEDULE_DELAY: "600000",
  OTEL_METRIC_EXPORT_INTERVAL: "600000",
};

// One dice per protocol, each sent to one of the receiver's two addresses.
const SENDERS = [
  {
    protocol: "http/protobuf",
    host: "127.0.0.1",
    player: "Alice",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  },
  {
    protocol: "http/json",
    host: "[::1]",
    player: "Bob",
    traceId: "0af7651916cd43dd8448eb211c80319c",
  },
] as const;

/** Rolls once for `player` in trace `traceId`, then stops dice with SIGINT. */
async function rollOnce(
  dice: ServiceProcess,
  player: string,
  traceId: string,
): Promise<number> {
  const response = await fetch(
    `http://127.0.0.1:${dice.port}/rolldice/${player}`,
    { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
  );
  const roll = Number(await response.text());
  await dice.signalGroup("INT");
  const { code, stderr } = await dice.exited();
  assert.equal(code, 0, stderr);
  return roll;
}

function escape(text: string): string {
  return text.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("deno task receiver prints what dice sends over protobuf and JSON, and stops on Ctrl+C", async (t) => {
  const receiver = await startService([...RECEIVER, "--port", "0"]);
  const rolls = await Promise.all(SENDERS.map(async (sender) => {
    const dice = await startService(["deno", "run", "-P", "main.ts"], {
      ...ONLY_AT_SHUTDOWN,
      OTEL_EXPORTER_OTLP_PROTOCOL: sender.protocol,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${sender.host}:${receiver.port}`,
    });
    return rollOnce(dice, sender.player, sender.traceId);
  }));
  // One Ctrl+C: SIGINT to the whole group, which deno task then forwards.
  await receiver.signalGroup("INT");
  const { code, stdout, stderr } = await receiver.exited();

  await t.step("exits 0, its messages on stderr, on both addresses", () => {
    assert.equal(code, 0, stderr);
    const lines = ourStderrLines(stderr).filter((line) =>
      line.startsWith("dice:")
    );
    assert.equal(lines.length, 2, stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^dice: OTLP receiver listening on http://127\\.0\\.0\\.1:${receiver.port}/ ` +
          `and http://\\[::1\\]:${receiver.port}/ \\(protobuf and JSON\\)`,
      ),
    );
    assert.equal(lines[1], "dice: SIGINT: OTLP receiver stopping");
    assert.doesNotMatch(stdout, /dice:/);
    // Not a terminal, and NO_COLOR: no colour codes.
    assert.ok(!stdout.includes("\u001b["), stdout);
  });

  for (const [i, { protocol, player, traceId }] of SENDERS.entries()) {
    await t.step(`${protocol}: a waterfall, and the log record in it`, () => {
      const short = traceId.slice(0, 6);
      const waterfall = new RegExp(
        `^------ trace ${short} \\(2 spans\\) ------\\n` +
          ` {7}span [0-9a-f]{6} "GET /rolldice/\\{player\\}" ` +
          `\\(\\d+\\.\\dms, SPAN_KIND_SERVER, GET -> 200, service\\.name=dice, scope=dice/otelhttp\\)\\n` +
          `[ +\\d]{4}ms \`- span ([0-9a-f]{6}) "roll" ` +
          `\\(\\d+\\.\\dms, SPAN_KIND_INTERNAL, service\\.name=dice, scope=dice\\)$`,
        "m",
      );
      const rollSpan = waterfall.exec(stdout)?.[1];
      assert.ok(rollSpan, stdout);
      assert.match(
        stdout,
        new RegExp(
          `^\\[[^\\]]+\\] INFO/SEV-9 \\(dice, traceId=${short}, spanId=${rollSpan}\\): ` +
            `${player} is rolling the dice\\n    result: ${rolls[i]}$`,
          "m",
        ),
      );
    });
  }

  await t.step("a summary of each export's metrics", () => {
    // The integer counter's value, not `undefined`, from either protocol.
    const counts = [...stdout.matchAll(
      /^sum "dice\.rolls" \(unit=\{roll\}, aggTemp=cumulative\): (.*)$/gm,
    )].map((match) => match[1]).sort();
    assert.deepEqual(
      counts,
      rolls.map((roll) => `1 { 'roll.value': ${roll} }`).sort(),
    );
    const durations = stdout.match(
      new RegExp(
        `^histogram "http\\.server\\.request\\.duration" \\(unit=s\\):\\n` +
          `    count=1, min=[\\d.e-]+, max=[\\d.e-]+\\n` +
          `    ${
            escape("{ 'http.request.method': 'GET', 'url.scheme': 'http', ")
          }`,
        "gm",
      ),
    );
    assert.equal(durations?.length, 2, stdout);
  });
});

Deno.test("deno task receiver: a bad argument gets one line and exit 2", async (t) => {
  const cases: [string[], string][] = [
    [
      ["--port", "abc"],
      'dice: --port must be an integer from 0 to 65535, got "abc"',
    ],
    [
      ["--port=65536"],
      'dice: --port must be an integer from 0 to 65535, got "65536"',
    ],
    [
      ["--port", "-1"],
      'dice: --port must be an integer from 0 to 65535, got "-1"',
    ],
    [
      ["--port"],
      "dice: --port needs a value from 0 to 65535; usage: deno task receiver [--port N]",
    ],
    [
      ["4318"],
      'dice: unknown argument "4318"; usage: deno task receiver [--port N]',
    ],
  ];
  for (const [args, line] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stdout, stderr } = await runToExit([...RECEIVER, ...args]);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      assert.deepEqual(
        ourStderrLines(stderr).filter((l) => !l.startsWith("Task ")),
        [line],
      );
    });
  }
});

Deno.test("deno task receiver: a port in use on either address gets one line and exit 1", async (t) => {
  for (const hostname of ["127.0.0.1", "::1"]) {
    await t.step(hostname, async () => {
      using taken = Deno.listen({ hostname, port: 0 });
      const { port } = taken.addr;
      const { code, stdout, stderr } = await runToExit([
        ...RECEIVER,
        "--port",
        String(port),
      ]);
      assert.equal(code, 1, stderr);
      assert.equal(stdout, "");
      assert.deepEqual(
        ourStderrLines(stderr).filter((l) => !l.startsWith("Task ")),
        [
          `dice: port ${port} of ${hostname} is already in use (another collector?); ` +
          "stop it or choose a free port with --port N",
        ],
      );
    });
  }
});
