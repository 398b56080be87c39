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
  ConfigError,
  isDenoTelemetryEnabled,
  readConfig,
} from "./internal/config.ts";
import { messageOf } from "./internal/errors.ts";
import { TEXT_PLAIN_HEADERS } from "./internal/http.ts";
import { type RouteHandler, ServeMux } from "./internal/mux.ts";
import { shutdownSignal } from "./internal/signals.ts";
import { logToStderr } from "./internal/stderr.ts";
import { stdoutSink } from "./exporters/stdout/mod.ts";
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
  const env = (name: string) => Deno.env.get(name);
  if (isDenoTelemetryEnabled(env)) {
    logToStderr(
      "OTEL_DENO is set: Deno's built-in OpenTelemetry would replace this " +
        "service's SDK and its exporters; unset OTEL_DENO to run dice",
    );
    return 1;
  }
  let config;
  try {
    config = readConfig(env, logToStderr);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logToStderr(error.message);
    return 2;
  }

  // Listen for signals before anything else, so that none is missed.
  const signal = shutdownSignal((code, signal) => {
    logToStderr(`${signal} again: exiting without waiting for the shutdown`);
    Deno.exit(code);
  });

  // Bind the port before setting up OpenTelemetry, so that a port in use
  // stops the service before it has any telemetry to flush. The moment
  // in between is answered with 503.
  let handler: otelhttp.ServeHandler = serviceUnavailable;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { port: config.port, hostname: "0.0.0.0", onListen() {} },
      (request, info) => handler(request, info),
    );
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    logToStderr(
      `port ${config.port} is already in use; set PORT to a free port`,
    );
    return 1;
  }

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
  logToStderr(
    `listening on http://${hostname}:${port}/ ` +
      `(try http://localhost:${port}/rolldice/Alice)`,
  );

  logToStderr(`${await signal}: shutting down (send it again to exit at once)`);
  // A stuck client or a stdout nobody reads must not keep the process
  // alive until the platform kills it without a word.
  const deadline = setTimeout(() => {
    logToStderr(
      `shutdown did not finish within ${config.shutdownTimeoutMillis} ms ` +
        "(DICE_SHUTDOWN_TIMEOUT); exiting without waiting any longer" +
        (sink.unwritten > 0
          ? `: ${sink.unwritten} bytes of telemetry never reached stdout`
          : ""),
    );
    Deno.exit(1);
  }, config.shutdownTimeoutMillis);
  await server.shutdown();
  try {
    await otelShutdown();
  } catch (error) {
    // Telemetry that could not be delivered is no reason to fail the
    // shutdown a platform asked for: say what was lost, and exit 0.
    logToStderr(messageOf(error));
  }
  clearTimeout(deadline);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
