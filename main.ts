/**
 * The dice service: Go's `main.go` for Deno. It sets up OpenTelemetry, serves
 * `/rolldice/{player}` behind the HTTP instrumentation, and on SIGINT,
 * SIGTERM or SIGHUP stops accepting, lets requests in flight finish, then
 * flushes every signal's telemetry and exits 0.
 *
 * Standard output carries telemetry only; every message for people goes to
 * standard error. What hardens each step is one call away, in `internal/`.
 *
 * @module
 */

import {
  type Config,
  DEFAULT_CONFIG,
  readSettings,
} from "./internal/config.ts";
import { exitAfter } from "./internal/deadline.ts";
import { messageOf } from "./internal/errors.ts";
import { Ledger } from "./internal/ledger.ts";
import { listen } from "./internal/listener.ts";
import { type RouteHandler, ServeMux } from "./internal/mux.ts";
import { explainPermissions } from "./internal/permissions.ts";
import { drainMillis } from "./internal/shutdown.ts";
import { shutdownSignal } from "./internal/signals.ts";
import { logToStderr } from "./internal/stderr.ts";
import { stdoutSink } from "./exporters/stdout/mod.ts";
import { setupOTelSDK } from "./otel.ts";
import * as otelhttp from "./otelhttp/mod.ts";
import { newRollDice } from "./rolldice.ts";

/**
 * Builds the service's request handler: the dice routes, each tagged with
 * its pattern, behind the HTTP instrumentation, which records the methods
 * `config` knows. Call it after the SDK is set up, since it takes its
 * tracers and meters from the global providers.
 */
export function newHTTPHandler(
  config: Pick<Config, "httpKnownMethods"> = DEFAULT_CONFIG,
): otelhttp.ServeHandler {
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

  return otelhttp.newHandler((request) => mux.serve(request), {
    knownMethods: config.httpKnownMethods,
  });
}

/** Runs the service until a shutdown signal; returns the exit code. */
async function main(): Promise<number> {
  const config = readSettings(logToStderr);
  if (typeof config === "number") return config;

  // Listen for signals before anything else, so that none is missed; a
  // second one exits at once.
  const signal = shutdownSignal();

  // Bound before OpenTelemetry is set up, so that a port in use stops the
  // service before it has telemetry to flush; answers 503 until served.
  const server = listen(config, logToStderr);
  if (server === undefined) return 1;

  // Held here, so that a shutdown that runs out of time can stop stdout
  // between two documents and say the totals before it exits.
  const sink = stdoutSink({ warn: logToStderr });
  const held = { sink, ledger: new Ledger() };
  const otelShutdown = await setupOTelSDK({ config, ...held }).catch(
    (error) => {
      logToStderr(`cannot set up OpenTelemetry: ${messageOf(error)}`);
    },
  );
  if (otelShutdown === undefined) {
    await server.close();
    return 1;
  }

  server.serve(newHTTPHandler(config));

  logToStderr(`${await signal}: shutting down (send it again to exit at once)`);
  const cancelDeadline = exitAfter(
    config.shutdownTimeoutMillis,
    held,
    logToStderr,
  );
  await server.drain(drainMillis(config.shutdownTimeoutMillis));
  // Telemetry that could not be delivered is no reason to fail the
  // shutdown a platform asked for: say what was lost, and exit 0.
  await otelShutdown().catch((error) => logToStderr(messageOf(error)));
  cancelDeadline();
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main().catch(explainPermissions));
}
