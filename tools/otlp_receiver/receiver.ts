/**
 * `deno task receiver`: an OTLP/HTTP receiver for people, to watch what dice
 * sends with OTEL_*_EXPORTER=otlp without running a collector in Docker.
 *
 * It is Elastic's mockotlpserver, used as a library: its HTTP service alone
 * (not its gRPC service on 4317 nor its web page on 8080, which would store
 * traces inside node_modules), on port 4318 of both 127.0.0.1 and [::1],
 * since `localhost` in an exporter's endpoint may resolve to either. It
 * accepts protobuf and JSON, and prints with the package's own printers:
 * each trace as a waterfall of spans under their parents with durations,
 * each log record with its trace and span IDs (the first six hex digits,
 * as the waterfall shows them), and a short summary of each metric.
 *
 * Usage: `deno task receiver [--port N]` (N from 0 to 65535; 0 picks a free
 * port). Ctrl+C stops it, exit 0; a bad argument exits 2, a port in use 1.
 *
 * @module
 */

import { MockOtlpServer } from "@elastic/mockotlpserver";
import { TraceWaterfallPrinter } from "@elastic/mockotlpserver/lib/waterfall.js";
import { LogsSummaryPrinter } from "@elastic/mockotlpserver/lib/logs-summary.js";
import { MetricsSummaryPrinter } from "@elastic/mockotlpserver/lib/metrics-summary.js";
import { format, stripVTControlCharacters } from "node:util";
import { messageOf } from "../../internal/errors.ts";
import { shutdownSignal } from "../../internal/signals.ts";
import { logToStderr } from "../../internal/stderr.ts";

/** The OTLP/HTTP port that exporters send to unless told otherwise. */
export const DEFAULT_PORT = 4318;

/** The addresses listened on: `localhost` is one or the other. */
export const HOSTNAMES = ["127.0.0.1", "::1"] as const;

// The printers print a moment after a request arrives (up to 50 ms, so that
// a trace comes out after other output of the same moment); a timer set
// for longer, later, fires after theirs.
const PRINTER_DELAY_MS = 100;

const USAGE = "usage: deno task receiver [--port N]";

/** Runs the receiver until SIGINT, SIGTERM or SIGHUP; returns the exit code. */
async function main(args: string[]): Promise<number> {
  const port = parsePort(args);
  if (typeof port === "string") {
    logToStderr(port);
    return 2;
  }
  const signal = shutdownSignal((code) => Deno.exit(code));
  plainOutputUnlessTerminal();
  const log = stderrLogger();
  const servers = await listen(port, log);
  if (servers === undefined) return 1;
  for (
    const printer of [
      new TraceWaterfallPrinter(log),
      new LogsSummaryPrinter(log),
      metricsSummaryPrinter(log),
    ]
  ) printer.subscribe();
  const urls = servers.map((server) => String(server.httpUrl));
  const actual = new URL(urls[0]).port;
  logToStderr(
    `OTLP receiver listening on ${urls.join(" and ")} (protobuf and JSON); ` +
      `point dice at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:${actual} ` +
      "and OTEL_TRACES_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp " +
      "OTEL_LOGS_EXPORTER=otlp; Ctrl+C stops it",
  );
  logToStderr(`${await signal}: OTLP receiver stopping`);
  await Promise.all(servers.map((server) => server.close()));
  await new Promise((resolve) => setTimeout(resolve, PRINTER_DELAY_MS));
  return 0;
}

// The port from `--port N` or `--port=N`, or the line that says what is
// wrong with the arguments.
function parsePort(args: string[]): number | string {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port" && value === undefined && i + 1 < args.length) {
      value = args[++i];
    } else if (arg.startsWith("--port=") && value === undefined) {
      value = arg.slice("--port=".length);
    } else if (arg === "--port") {
      return `--port needs a value from 0 to 65535; ${USAGE}`;
    } else {
      return `unknown argument "${arg}"; ${USAGE}`;
    }
  }
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  return /^\d+$/.test(value) && port <= 65535
    ? port
    : `--port must be an integer from 0 to 65535, got "${value}"`;
}

// One server per address, as mockotlpserver listens on one hostname. The
// second takes the port the first got, so that `--port 0` gives one port.
async function listen(
  port: number,
  log: ReturnType<typeof stderrLogger>,
): Promise<MockOtlpServer[] | undefined> {
  const servers: MockOtlpServer[] = [];
  for (const hostname of HOSTNAMES) {
    const server = new MockOtlpServer({
      log,
      services: ["http"],
      httpHostname: hostname,
      httpPort: port,
    });
    try {
      await server.start();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (hostname === "::1" && NO_IPV6.includes(code ?? "")) {
        logToStderr(
          `no IPv6 here (${messageOf(error)}); OTLP receiver on 127.0.0.1 only`,
        );
        break;
      }
      logToStderr(
        code === "EADDRINUSE"
          ? `port ${port} of ${hostname} is already in use (another collector?); ` +
            "stop it or choose a free port with --port N"
          : `cannot listen on port ${port} of ${hostname}: ${messageOf(error)}`,
      );
      await Promise.all(servers.map((server) => server.close()));
      return undefined;
    }
    servers.push(server);
    port = Number(new URL(String(server.httpUrl)).port);
  }
  return servers;
}

// The package's metrics summary prints a data point's asDouble alone, and
// so `undefined` for the integer counters dice records (asInt): give those
// points their value as asDouble too, as a decimal string, exact for any
// int64, before it prints them.
function metricsSummaryPrinter(log: ReturnType<typeof stderrLogger>) {
  const printer = new MetricsSummaryPrinter(log);
  const print = printer.printMetrics.bind(printer);
  printer.printMetrics = (request: MetricsRequest) => {
    for (const { scopeMetrics } of request.resourceMetrics ?? []) {
      for (const { metrics } of scopeMetrics ?? []) {
        for (const { sum, gauge } of metrics ?? []) {
          for (
            const point of [sum, gauge].flatMap((m) => m?.dataPoints ?? [])
          ) {
            if (
              !Object.hasOwn(point, "asDouble") && Object.hasOwn(point, "asInt")
            ) {
              point.asDouble = String(point.asInt);
            }
          }
        }
      }
    }
    print(request);
  };
  return printer;
}

// The part of an ExportMetricsServiceRequest, decoded from protobuf or
// JSON, that holds the number data points.
interface MetricsRequest {
  resourceMetrics?: {
    scopeMetrics?: {
      metrics?: {
        sum?: { dataPoints?: NumberDataPoint[] };
        gauge?: { dataPoints?: NumberDataPoint[] };
      }[];
    }[];
  }[];
}
interface NumberDataPoint {
  asDouble?: unknown;
  asInt?: unknown;
}

// A kernel without IPv6 (EAFNOSUPPORT) or with no address ::1 (EADDRNOTAVAIL).
const NO_IPV6 = ["EADDRNOTAVAIL", "EAFNOSUPPORT"];

// The printers colour their output: keep the colours for a terminal, and
// leave them out of a file or pipe, or when NO_COLOR is set.
function plainOutputUnlessTerminal(): void {
  if (!Deno.noColor && Deno.stdout.isTerminal()) return;
  const log = console.log;
  console.log = (...data: unknown[]) =>
    log(stripVTControlCharacters(format(...data)));
}

// mockotlpserver's own logger writes JSON records to stdout, where the
// telemetry goes: this one gives its warnings and errors to people, on
// stderr, one line each, and keeps its chatter to itself.
function stderrLogger() {
  function say(...args: unknown[]): void {
    const words = args.map((arg) =>
      typeof arg === "string" ? arg : Object.entries(arg as object)
        .map(([key, value]) =>
          `${key}=${value instanceof Error ? messageOf(value) : value}`
        ).join(" ")
    );
    logToStderr(`OTLP receiver: ${words.reverse().join(": ")}`);
  }
  const quiet = () => {};
  return {
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: say,
    error: say,
    fatal: say,
    level: quiet,
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
