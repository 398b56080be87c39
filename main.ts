/**
 * The dice service: Go's `main.go` for Deno. It sets up OpenTelemetry, serves
 * `/rolldice/{player}` behind the HTTP instrumentation, and on SIGINT,
 * SIGTERM or SIGHUP stops accepting, lets requests in flight finish, then flushes every
 * signal's telemetry and exits 0.
 *
 * Standard output carries telemetry only; every message for people goes to
 * standard error.
 *
 * @module
 */

import {
  type Config,
  ConfigError,
  drainMillis,
  isDenoTelemetryEnabled,
  readConfig,
} from "./internal/config.ts";
import { messageOf } from "./internal/errors.ts";
import { TEXT_PLAIN_HEADERS } from "./internal/http.ts";
import { type RouteHandler, ServeMux } from "./internal/mux.ts";
import { type ResilientServer, serveResilient } from "./internal/serve.ts";
import { shutdownSignal } from "./internal/signals.ts";
import { logToStderr } from "./internal/stderr.ts";
import { type StdoutSink, stdoutSink } from "./exporters/stdout/mod.ts";
import { setupOTelSDK } from "./otel.ts";
import * as otelhttp from "./otelhttp/mod.ts";
import { newRollDice } from "./rolldice.ts";

/**
 * Builds the service's request handler: the dice routes, each tagged with
 * its pattern, behind the HTTP instrumentation. Call it after the SDK is set
 * up, since it takes its tracers and meters from the global providers.
 */
export function newHTTPHandler(): otelhttp.ServeHandler {
  const mux = new ServeMux();

  // handleFunc is a replacement for mux.handle that gives the pattern to the
  // HTTP instrumentation as http.route.
  function handleFunc(pattern: string, handler: RouteHandler): void {
    mux.handle(pattern, otelhttp.withRouteTag(pattern, handler));
  }

  const rolldice = newRollDice();
  handleFunc("/rolldice", rolldice);
  handleFunc("/rolldice/", rolldice);
  handleFunc("/rolldice/{player}", rolldice);

  return otelhttp.newHandler((request) => mux.serve(request));
}

function serviceUnavailable(): Response {
  return new Response("503 service unavailable: starting\n", {
    status: 503,
    headers: TEXT_PLAIN_HEADERS,
  });
}

/** Runs the service until a shutdown signal; returns the exit code. */
async function main(): Promise<number> {
  const config = readSettings();
  if (typeof config === "number") return config;

  // Listen for signals before anything else, so that none is missed.
  const signal = shutdownSignal((code, signal) => {
    logToStderr(`${signal} again: exiting without waiting for the shutdown`);
    Deno.exit(code);
  });

  // Bind the port before setting up OpenTelemetry, so that a port in use
  // stops the service before it has any telemetry to flush. The moment
  // in between is answered with 503.
  let handler: otelhttp.ServeHandler = serviceUnavailable;
  const server = listen(config.port, (request, info) => handler(request, info));
  if (server === undefined) return 1;

  // Held here, so that a shutdown that runs out of time can say how much
  // telemetry never reached stdout.
  const sink = stdoutSink({ warn: logToStderr });
  let otelShutdown;
  try {
    otelShutdown = await setupOTelSDK({ config, warn: logToStderr, sink });
  } catch (error) {
    logToStderr(`cannot set up OpenTelemetry: ${messageOf(error)}`);
    await server.shutdown();
    return 1;
  }
  handler = newHTTPHandler();
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  logToStderr(
    `listening on http://${host}:${port}/ ` +
      `(try http://localhost:${port}/rolldice/Alice)`,
  );

  logToStderr(`${await signal}: shutting down (send it again to exit at once)`);
  const deadline = exitAfter(config.shutdownTimeoutMillis, sink);
  await drain(server, drainMillis(config.shutdownTimeoutMillis));
  // Telemetry that could not be delivered is no reason to fail the
  // shutdown a platform asked for: say what was lost, and exit 0.
  await otelShutdown().catch((error) => logToStderr(messageOf(error)));
  clearTimeout(deadline);
  return 0;
}

// The configuration, or the exit code when the service must not start.
function readSettings(): Config | number {
  const env = (name: string) => Deno.env.get(name);
  if (isDenoTelemetryEnabled(env)) {
    logToStderr(
      "OTEL_DENO is set: Deno's built-in OpenTelemetry would replace this " +
        "service's SDK and its exporters; unset OTEL_DENO to run dice",
    );
    return 1;
  }
  try {
    return readConfig(env, logToStderr);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logToStderr(error.message);
    return 2;
  }
}

// Listens on both address families, as Go's ":8080" does, or on IPv4
// alone where this machine has no IPv6; undefined, said in one line, when
// it cannot listen at all.
function listen(
  port: number,
  handler: otelhttp.ServeHandler,
): ResilientServer | undefined {
  for (const hostname of ["::", "0.0.0.0"]) {
    try {
      return serveResilient({ port, hostname }, handler, { warn: logToStderr });
    } catch (error) {
      if (hostname === "::" && isNoIPv6(error)) {
        logToStderr(`no IPv6 here (${messageOf(error)}); listening on IPv4`);
        continue;
      }
      logToStderr(
        error instanceof Deno.errors.AddrInUse
          ? `port ${port} is already in use; set PORT to a free port`
          : `cannot listen on port ${port}: ${messageOf(error)}`,
      );
      return undefined;
    }
  }
}

// EADDRNOTAVAIL or EAFNOSUPPORT: a kernel without IPv6, or with it turned off.
function isNoIPv6(error: unknown): boolean {
  return error instanceof Deno.errors.AddrNotAvailable ||
    /address family not supported|os error 97/i.test(messageOf(error));
}

// Requests in flight finish first, so that their telemetry is flushed too;
// but a client that never finishes its request (a body shorter than its
// Content-Length, an idle HTTP/2 connection) must not hold back the flush
// of everyone else's until the deadline.
async function drain(server: ResilientServer, millis: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    server.shutdown().then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), millis);
    }),
  ]);
  clearTimeout(timer);
  if (drained) return;
  logToStderr(
    `connections still open after ${millis} ms; flushing the telemetry ` +
      "without waiting for them",
  );
}

// A stuck client or a stdout nobody reads must not keep the process alive
// until the platform kills it without a word.
function exitAfter(
  millis: number,
  sink: StdoutSink,
): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    const unwritten = sink.unwritten > 0
      ? `: ${sink.unwritten} bytes of telemetry never reached stdout`
      : "";
    logToStderr(
      `shutdown did not finish within ${millis} ms (DICE_SHUTDOWN_TIMEOUT); ` +
        "exiting without waiting any longer, and the telemetry not yet " +
        `exported is lost${unwritten}`,
    );
    Deno.exit(1);
  }, millis);
}

if (import.meta.main) {
  Deno.exit(await main().catch(explainPermissions));
}

// `deno run main.ts` without -P stops at the first variable it reads: one
// line that says how to run it, rather than a stack trace.
function explainPermissions(error: unknown): number {
  if (!(error instanceof Deno.errors.NotCapable)) throw error;
  logToStderr(
    `${messageOf(error)}; run deno task start, or deno run -P main.ts, ` +
      "which grants the permissions that deno.json declares",
  );
  return 1;
}
