/**
 * `deno task bench`: what full telemetry costs, side by side in one run.
 *
 * Eight variants of the same dice service, each loaded by the same HTTP load
 * generator on loopback (wrk, or autocannon from npm where wrk is absent),
 * each after a warm-up, in three rounds of alternating order so that drift on a
 * noisy machine shows:
 *
 * 1. `bare`: the dice routes on bare `Deno.serve`, no telemetry;
 * 2. `dice console`: this service, stdout to a file, the demo intervals;
 * 3. `dice otlp`: this service exporting over OTLP/HTTP to a local receiver;
 * 4. `deno otel`: Deno's built-in OpenTelemetry with its console exporter;
 * 5. `node peer`: the OpenTelemetry JS getting-started app (Express, sdk-node);
 * 6. `bare serve` and `dice serve`: `bare` and `dice console` under
 *    `deno serve --parallel` in 2 workers, as `deno task serve` runs them;
 * 7. `dice otlp dead`: this service exporting over OTLP to a collector that
 *    accepts and never answers, for the peak RSS that its bounded queues
 *    hold it to (it exports nothing, so its "exported" is 0 %).
 *
 * For each: requests per second, p50 and p99 latency, peak RSS, and the
 * share of the expected telemetry that was exported (2 spans and 1 log
 * record per request, `dice.rolls` summing to the request count). Then a
 * 60-second overload of the console variant, for its peak RSS and losses.
 * Results go to BENCHMARKS.md and bench/throughput.svg.
 *
 * Options: `--seconds N` (10) per measurement, `--rounds N` (3),
 * `--only NAME[,NAME]`, `--no-overload`.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;
const OUT = `${ROOT}.build/bench/`;
const CONNECTIONS = 32;

interface Options {
  seconds: number;
  rounds: number;
  only?: string[];
  overload: boolean;
}

function parseOptions(args: string[]): Options {
  const options: Options = { seconds: 10, rounds: 3, overload: true };
  for (let i = 0; i < args.length; i++) {
    const [name, value] = [args[i], args[i + 1]];
    if (name === "--seconds") options.seconds = Number(value), i++;
    else if (name === "--rounds") options.rounds = Number(value), i++;
    else if (name === "--only") options.only = value.split(","), i++;
    else if (name === "--no-overload") options.overload = false;
    else throw new Error(`unknown option ${name}; see bench/run.ts`);
  }
  return options;
}

/** What one variant exported, as counted from its output. */
interface Exported {
  spans: number;
  logs: number;
  rolls: number;
}

interface Variant {
  name: string;
  /** Starts the service on `port`, writing its telemetry under `out`. */
  command(
    port: number,
    out: string,
  ): {
    cmd: string[];
    env: Record<string, string>;
    cwd?: string;
    telemetry: string;
  };
  /** Counts the telemetry the service exported; undefined for none expected. */
  count?(telemetry: string): Promise<Exported>;
  /** Runs before the service starts; returns what runs beside it. */
  before?(
    out: string,
  ): Promise<{ env: Record<string, string>; after(): Promise<Exported> }>;
}

const DICE_ENV = { NO_COLOR: "1" };
const SERVE_2_WORKERS = ["deno", "serve", "--parallel"];
function servePort(port: number): string[] {
  return ["--port", `${port}`, "--host", "127.0.0.1"];
}

// The service with every signal sent over OTLP, to what `before` started.
function diceOverOtlp(port: number): ReturnType<Variant["command"]> {
  return {
    cmd: ["deno", "run", "-P", "main.ts"],
    env: {
      ...DICE_ENV,
      PORT: String(port),
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_METRICS_EXPORTER: "otlp",
      OTEL_LOGS_EXPORTER: "otlp",
    },
    telemetry: "",
  };
}

const VARIANTS: Variant[] = [
  {
    name: "bare",
    command: (port) => ({
      cmd: ["deno", "run", "-P=bench-service", "bench/bare.ts"],
      env: { PORT: String(port) },
      telemetry: "",
    }),
  },
  {
    name: "dice console",
    command: (port, out) => ({
      cmd: ["deno", "run", "-P", "main.ts"],
      env: { ...DICE_ENV, PORT: String(port) },
      telemetry: `${out}dice-console.json`,
    }),
    count: countDiceDocuments,
  },
  {
    name: "bare serve",
    command: (port) => ({
      cmd: [
        ...SERVE_2_WORKERS,
        "-P=bench-service",
        ...servePort(port),
        "bench/bare_serve.ts",
      ],
      env: { DENO_JOBS: "2" },
      telemetry: "",
    }),
  },
  {
    // What deno task serve's launcher runs (tools/serve/main.ts), so that
    // the CPU measured is the workers' own.
    name: "dice serve",
    command: (port, out) => ({
      cmd: [...SERVE_2_WORKERS, "-P", ...servePort(port), "serve.ts"],
      env: { ...DICE_ENV, DENO_JOBS: "2" },
      telemetry: `${out}dice-serve.json`,
    }),
    count: countDiceDocuments,
  },
  {
    name: "dice otlp",
    command: diceOverOtlp,
    before: startReceiver,
  },
  {
    name: "dice otlp dead",
    command: diceOverOtlp,
    before: startDeadCollector,
  },
  {
    name: "deno otel",
    command: (port) => ({
      cmd: ["deno", "run", "-P=bench-service", "bench/deno_otel.ts"],
      env: {
        PORT: String(port),
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "console",
        OTEL_METRIC_EXPORT_INTERVAL: "3000",
        NO_COLOR: "1",
      },
      telemetry: "stderr",
    }),
    count: countDenoConsole,
  },
  {
    name: "node peer",
    command: (port) => ({
      cmd: ["node", "--require", "./instrumentation.js", "app.js"],
      env: { PORT: String(port) },
      cwd: `${ROOT}bench/node`,
      telemetry: "stdout",
    }),
    count: countNodeConsole,
  },
];

interface Measurement {
  variant: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  peakRssMiB: number;
  /** CPU time the service spent per request, all its threads, in µs. */
  cpuMicros: number;
  completeness?: number;
  exported?: Exported;
  /** Bytes written to the telemetry file per request served. */
  bytesPerRequest?: number;
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}

async function waitForPort(
  port: number,
  child: Deno.ChildProcess,
): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await Promise.race([sleep(50), child.status]);
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

// Deno lets only -A read /proc/PID; cat may.
async function peakRssMiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
  }).output();
  const status = new TextDecoder().decode(stdout);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

// utime + stime, fields 14 and 15 of proc(5), in clock ticks of 1/100 s.
// Less noisy than req/s on a shared machine: it is what a request costs.
async function cpuSeconds(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
  }).output();
  const fields = new TextDecoder().decode(stdout).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

const hasWrk = await new Deno.Command("sh", { args: ["-c", "command -v wrk"] })
  .output()
  .then((output) => output.success, () => false);

/** Loads `url` for `seconds` with the load generator; latencies in ms. */
async function load(
  url: string,
  seconds: number,
  connections = CONNECTIONS,
): Promise<Load> {
  if (hasWrk) {
    const { stdout } = await new Deno.Command("wrk", {
      args: ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url],
    }).output();
    const text = new TextDecoder().decode(stdout);
    const millis = (label: string) => {
      const [, value, unit] =
        new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text) ?? [];
      return Number(value) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);
    };
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
      p50: millis(" 50%"),
      p99: millis(" 99%"),
      requests: Number(/(\d+) requests in/.exec(text)?.[1]),
    };
  }
  const { stdout } = await new Deno.Command("npx", {
    args: [
      "--yes",
      "autocannon@8.0.0",
      "-j",
      "-c",
      String(connections),
      "-d",
      String(seconds),
      url,
    ],
  }).output();
  const result = JSON.parse(new TextDecoder().decode(stdout));
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result["2xx"],
  };
}

async function measure(
  variant: Variant,
  round: number,
  options: Options,
): Promise<Measurement> {
  const port = freePort();
  const beside = await variant.before?.(OUT);
  const { cmd, env, cwd, telemetry } = variant.command(port, OUT);
  const stdoutFile =
    telemetry && telemetry !== "stderr" && telemetry !== "stdout"
      ? telemetry
      : `${OUT}${variant.name.replace(" ", "-")}.stdout`;
  const stderrFile = `${OUT}${variant.name.replace(" ", "-")}.stderr`;
  // The service's output goes straight to files, as a shell's redirection would.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" > "$OUT_STDOUT" 2> "$OUT_STDERR"', "sh", ...cmd],
    cwd: cwd ?? ROOT,
    env: {
      ...env,
      ...beside?.env,
      OUT_STDOUT: stdoutFile,
      OUT_STDERR: stderrFile,
    },
    stdin: "null",
  }).spawn();
  try {
    await waitForPort(port, child);
    const url = `http://127.0.0.1:${port}/rolldice/Alice`;
    const warmup = await load(url, 3);
    const cpuBefore = await cpuSeconds(child.pid);
    const result = await load(url, options.seconds);
    const cpu = await cpuSeconds(child.pid) - cpuBefore;
    const peak = await peakRssMiB(child.pid);
    child.kill("SIGTERM");
    await child.status;
    const requests = warmup.requests + result.requests;
    const source = telemetry === "stderr" ? stderrFile : stdoutFile;
    const exported = beside
      ? await beside.after()
      : await variant.count?.(source);
    const measurement: Measurement = {
      variant: variant.name,
      round,
      rps: result.rps,
      p50: result.p50,
      p99: result.p99,
      requests,
      peakRssMiB: peak,
      cpuMicros: cpu * 1e6 / result.requests,
      exported,
    };
    if (telemetry) {
      measurement.bytesPerRequest = (await Deno.stat(source)).size / requests;
    }
    if (exported) {
      // A few requests still in flight when the load generator stops are
      // served but not counted by it: more than 100 % is 100 %.
      measurement.completeness = Math.min(
        1,
        exported.spans / (2 * requests),
        exported.logs / requests,
        exported.rolls / requests,
      );
    }
    return measurement;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Reads a file line by line without holding all of it twice. */
async function* lines(path: string): AsyncGenerator<string> {
  using file = await Deno.open(path);
  let rest = "";
  for await (
    const chunk of file.readable.pipeThrough(new TextDecoderStream())
  ) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

// dice's pretty output: top-level fields are indented by one tab. Under
// deno task serve, each worker's metrics carry its own service.instance.id:
// the last dice.rolls sum of each instance counts, and they add up.
async function countDiceDocuments(path: string): Promise<Exported> {
  let spans = 0;
  let logs = 0;
  let inRolls = false;
  let instance = "";
  let instanceNext = false;
  const rolls = new Map<string, number>();
  for await (const line of lines(path)) {
    if (line.startsWith('\t"SpanContext": ')) spans++;
    else if (line.startsWith('\t"SeverityText": ')) logs++;
    else if (line === '\t\t\t"Key": "service.instance.id",') {
      instanceNext = true;
    } else if (instanceNext && line.startsWith('\t\t\t\t"Value": "')) {
      instance = line.trim();
      instanceNext = false;
    } else if (line.includes('"Name": "dice.rolls"')) {
      inRolls = true;
      rolls.set(instance, 0);
    } else if (inRolls && /^\t{5,}"Value": \d+,?$/.test(line)) {
      rolls.set(
        instance,
        rolls.get(instance)! + Number(/(\d+)/.exec(line)![1]),
      );
    } else if (inRolls && line.includes('"Temporality"')) {
      inRolls = false;
    }
  }
  const sum = [...rolls.values()].reduce((total, value) => total + value, 0);
  return { spans, logs, rolls: sum };
}

// Deno's console exporter: "SPAN name [...]" and "LOG [INFO] ..." lines,
// and "METRIC dice.rolls" followed by "  {roll.value=N} value=M" lines.
async function countDenoConsole(path: string): Promise<Exported> {
  let spans = 0;
  let logs = 0;
  let rolls = 0;
  let inRolls = false;
  for await (const line of lines(path)) {
    if (line.startsWith("SPAN ")) spans++;
    else if (line.startsWith("LOG ") && line.includes("is rolling the dice")) {
      logs++;
    } else if (line.startsWith("METRIC ")) {
      inRolls = line.startsWith("METRIC dice.rolls ");
      if (inRolls) rolls = 0;
    } else if (inRolls) {
      const value = /\{roll\.value=\d\} value=(\d+)/.exec(line);
      if (value) rolls += Number(value[1]);
    }
  }
  return { spans, logs, rolls };
}

// The SDK's console exporters print util.inspect() output. The Express
// instrumentation adds a span per middleware: count the server and roll
// spans only, as for the others.
async function countNodeConsole(path: string): Promise<Exported> {
  let spans = 0;
  let logs = 0;
  let rolls = 0;
  let inRolls = false;
  for await (const line of lines(path)) {
    if (
      line === "  name: 'roll'," || line === "  name: 'GET /rolldice/:player',"
    ) spans++;
    else if (
      line.startsWith("  body: '") && line.includes("is rolling the dice")
    ) logs++;
    else if (line.startsWith("    name: '")) {
      inRolls = line === "    name: 'dice.rolls',";
      if (inRolls) rolls = 0;
    } else if (inRolls) {
      const value = /^\s+value: (\d+)/.exec(line);
      if (value) rolls += Number(value[1]);
    }
  }
  return { spans, logs, rolls };
}

/**
 * Starts a collector that accepts every connection and never answers: the
 * exports wait until their deadline, and the queues fill up to their bounds.
 */
function startDeadCollector(): Promise<
  { env: Record<string, string>; after(): Promise<Exported> }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return Promise.resolve({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${listener.addr.port}`,
    },
    async after() {
      listener.close();
      await accepting;
      for (const conn of held) {
        try {
          conn.close();
        } catch {
          // closed by the service's exit already
        }
      }
      return { spans: 0, logs: 0, rolls: 0 };
    },
  });
}

/** Starts the OTLP receiver and counts what it decoded once it is done. */
async function startReceiver(): Promise<
  { env: Record<string, string>; after(): Promise<Exported> }
> {
  const child = new Deno.Command("deno", {
    args: ["run", "-P", "main.ts"],
    cwd: `${ROOT}tools/otlp_receiver`,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const exported: Exported = { spans: 0, logs: 0, rolls: 0 };
  let requests = 0;
  let decoded = 0;
  const url = Promise.withResolvers<string>();
  const reading = (async () => {
    let rest = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        const message = JSON.parse(line);
        if (message.listening) {
          url.resolve(
            message.listening.replace(/\/$/, ""),
          );
        } else if (message.signal === "request") requests++;
        else {
          decoded++;
          tally(message, exported);
        }
      }
    }
  })();
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: await url.promise },
    async after() {
      for (let i = 0; i < 600 && decoded < requests; i++) await sleep(100);
      child.kill("SIGTERM");
      await Promise.all([child.status, reading]);
      return exported;
    },
  };
}

// deno-lint-ignore no-explicit-any -- the receiver's decoded JSON
function tally({ signal, data }: any, exported: Exported): void {
  if (signal === "traces") {
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) exported.spans += ss.spans.length;
    }
  } else if (signal === "logs") {
    for (const rl of data.resourceLogs) {
      for (const sl of rl.scopeLogs) exported.logs += sl.logRecords.length;
    }
  } else if (signal === "metrics") {
    for (const rm of data.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          if (metric.name !== "dice.rolls") continue;
          // Cumulative: the latest collection holds the total.
          exported.rolls = metric.sum.dataPoints.reduce(
            (sum: number, point: { asInt: string }) =>
              sum + Number(point.asInt),
            0,
          );
        }
      }
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function machine(): Promise<string> {
  const cat = async (path: string) =>
    new TextDecoder().decode(
      (await new Deno.Command("cat", { args: [path] }).output()).stdout,
    );
  const cpuinfo = await cat("/proc/cpuinfo");
  const meminfo = await cat("/proc/meminfo");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const memory = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024 /
    1024;
  const node = new TextDecoder().decode(
    (await new Deno.Command("node", { args: ["--version"] }).output()).stdout,
  )
    .trim();
  const cores = navigator.hardwareConcurrency;
  return `${model}, ${cores} ${cores === 1 ? "core" : "cores"}, ${
    memory.toFixed(0)
  } GiB; ` +
    `Deno ${Deno.version.deno}, Node.js ${node}; load from ${
      hasWrk ? "wrk" : "autocannon"
    }, ` +
    `1 thread, ${CONNECTIONS} connections, loopback`;
}

function chart(rows: Array<{ name: string; rps: number }>): string {
  const width = 640;
  const bar = 28;
  const left = 120;
  const max = Math.max(...rows.map((row) => row.rps));
  const height = rows.length * (bar + 12) + 40;
  const bars = rows.map((row, i) => {
    const y = 30 + i * (bar + 12);
    const length = Math.max(1, (row.rps / max) * (width - left - 110));
    return `<text x="${left - 8}" y="${
      y + 19
    }" text-anchor="end">${row.name}</text>` +
      `<rect x="${left}" y="${y}" width="${
        length.toFixed(1)
      }" height="${bar}" fill="${
        row.name.startsWith("dice") ? "#2f6fde" : "#9aa5b1"
      }"/>` +
      `<text x="${(left + length + 6).toFixed(1)}" y="${y + 19}">${
        Math.round(row.rps).toLocaleString("en")
      } req/s</text>`;
  }).join("\n  ");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
  <text x="${left}" y="18" font-weight="bold">Requests per second, median of the rounds (higher is better)</text>
  ${bars}
</svg>
`;
}

/** dice console against the issue's targets, in req/s and in CPU per request. */
function targetsLine(
  rows: Array<{ name: string; rps: number; cpu: number }>,
): string {
  const row = (name: string) => rows.find((r) => r.name === name);
  const dice = row("dice console");
  if (!dice) return "Targets: not measured (dice console did not run).";
  const against = (name: string, times: boolean) => {
    const other = row(name);
    if (!other) return `${name}: not run`;
    const rps = dice.rps / other.rps;
    const cpu = other.cpu / dice.cpu;
    return times
      ? `${rps.toFixed(1)}× ${name} (${cpu.toFixed(1)}× by CPU per request)`
      : `${(rps * 100).toFixed(0)} % of ${name} (${
        (cpu * 100).toFixed(0)
      } % by CPU per request)`;
  };
  return `Targets (dice console: ≥ 33 % of bare with 100 % exported, ≥ 10× ` +
    `node peer, ≥ 2× deno otel): ${against("bare", false)}; ` +
    `${against("node peer", true)}; ${against("deno otel", true)}.`;
}

async function overload(): Promise<string> {
  const port = freePort();
  const out = `${OUT}overload.json`;
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec deno run -P main.ts > "$OUT_STDOUT" 2> /dev/null'],
    cwd: ROOT,
    env: {
      ...DICE_ENV,
      PORT: String(port),
      DICE_CONSOLE_FORMAT: "compact",
      OUT_STDOUT: out,
    },
    stdin: "null",
  }).spawn();
  await waitForPort(port, child);
  const result = await load(`http://127.0.0.1:${port}/rolldice/Alice`, 60, 256);
  const peak = await peakRssMiB(child.pid);
  child.kill("SIGTERM");
  await child.status;
  let lastMetrics = "";
  for await (const line of lines(out)) {
    if (line.startsWith('{"Resource"')) lastMetrics = line;
  }
  const dropped = [
    ...lastMetrics.matchAll(
      /"Name":"otel\.sdk\.processor\.(span|log)\.processed".*?(?="Name"|$)/g,
    ),
  ]
    .map((match) => {
      const queueFull = [
        ...match[0].matchAll(
          /"Value":"queue_full"\}\}\],"StartTime":"[^"]+","Time":"[^"]+","Value":(\d+)/g,
        ),
      ];
      return `${match[1]}s dropped: ${
        queueFull.reduce((sum, m) => sum + Number(m[1]), 0)
      }`;
    });
  return `60 s at 256 connections: ${
    Math.round(result.rps).toLocaleString("en")
  } req/s, ` +
    `${result.requests.toLocaleString("en")} requests, peak RSS ${
      peak.toFixed(0)
    } MiB; ` +
    (dropped.length ? dropped.join(", ") : "nothing dropped");
}

if (import.meta.main) {
  const options = parseOptions(Deno.args);
  await Deno.mkdir(OUT, { recursive: true });
  const variants = VARIANTS.filter((variant) =>
    !options.only || options.only.includes(variant.name)
  );
  const measurements: Measurement[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 ? variants : [...variants].reverse();
    for (const variant of order) {
      console.error(`round ${round}: ${variant.name} ...`);
      const measurement = await measure(variant, round, options);
      console.error(
        `  ${Math.round(measurement.rps)} req/s, p50 ${
          measurement.p50.toFixed(2)
        } ms, ` +
          `p99 ${measurement.p99.toFixed(2)} ms, ` +
          `peak RSS ${measurement.peakRssMiB.toFixed(0)} MiB, ` +
          `CPU ${measurement.cpuMicros.toFixed(1)} µs/request` +
          (measurement.bytesPerRequest === undefined
            ? ""
            : `, ${measurement.bytesPerRequest.toFixed(0)} B/request`) +
          (measurement.completeness === undefined
            ? ""
            : `, completeness ${
              (measurement.completeness * 100).toFixed(1)
            } % ${
              JSON.stringify(measurement.exported)
            } for ${measurement.requests} requests`),
      );
      measurements.push(measurement);
    }
  }

  const rows = variants.map((variant) => {
    const runs = measurements.filter((m) => m.variant === variant.name);
    return {
      name: variant.name,
      rps: median(runs.map((m) => m.rps)),
      rounds: runs.map((m) => Math.round(m.rps)),
      p50: median(runs.map((m) => m.p50)),
      p99: median(runs.map((m) => m.p99)),
      rss: Math.max(...runs.map((m) => m.peakRssMiB)),
      cpu: median(runs.map((m) => m.cpuMicros)),
      bytes: runs.some((m) => m.bytesPerRequest !== undefined)
        ? median(runs.map((m) => m.bytesPerRequest ?? 0))
        : undefined,
      completeness: runs.some((m) => m.completeness !== undefined)
        ? Math.min(...runs.map((m) => m.completeness ?? 1))
        : undefined,
    };
  });
  const baseline = rows.find((row) => row.name === "bare")?.rps;
  const table = [
    "| variant | req/s (median) | rounds | vs bare | p50 ms | p99 ms | CPU µs/request | peak RSS MiB | telemetry exported | telemetry KB/request |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.name} | ${Math.round(row.rps).toLocaleString("en")} | ${
        row.rounds.join(", ")
      } | ${
        baseline ? `${((row.rps / baseline) * 100).toFixed(0)} %` : "–"
      } | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${
        row.cpu.toFixed(1)
      } | ${row.rss.toFixed(0)} | ${
        row.completeness === undefined
          ? "–"
          : `${(row.completeness * 100).toFixed(1)} %`
      } | ${row.bytes === undefined ? "–" : (row.bytes / 1000).toFixed(2)} |`
    ),
  ].join("\n");
  const targets = targetsLine(rows);
  const overloadLine = options.overload
    ? await overload()
    : "not run (--no-overload)";
  const report = `# Benchmarks

Measured by \`deno task bench\` on ${
    new Date().toISOString().slice(0, 10)
  }: ${await machine()};
${options.seconds} s per measurement after a 3 s warm-up, ${options.rounds} rounds in alternating orders.
Absolute numbers depend on the machine; compare the ratios.

${table}

"Telemetry exported" is the smallest of: spans exported / (2 × requests),
log records / requests, and the final \`dice.rolls\` sum / requests.
"CPU µs/request" is the service's CPU time (all threads) during the
measurement divided by the requests served: steadier than req/s when the
machine is shared. "Telemetry KB/request" is what the variant wrote to its
telemetry file, warm-up included, divided by the requests served (not
measured for OTLP, whose exporter sends chunked protobuf): the console formats
differ, and writing the bytes to a file costs the kernel CPU time too.

${targets}

Overload of \`dice console\` (compact output): ${overloadLine}.

![Requests per second](bench/throughput.svg)
`;
  // What follows the marker is written by hand, and kept.
  const marker = "<!-- Written by hand below; deno task bench keeps it. -->";
  const previous = await Deno.readTextFile(`${ROOT}BENCHMARKS.md`).catch(() =>
    ""
  );
  const notes = previous.includes(marker)
    ? previous.slice(previous.indexOf(marker))
    : marker + "\n";
  await Deno.writeTextFile(`${ROOT}BENCHMARKS.md`, `${report}\n${notes}`);
  await Deno.writeTextFile(`${ROOT}bench/throughput.svg`, chart(rows));
  console.log(table);
  console.error(`wrote BENCHMARKS.md and bench/throughput.svg`);
}
