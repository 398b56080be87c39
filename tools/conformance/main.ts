/**
 * A test service for the W3C Trace Context test suite (the `test/` folder of
 * the public w3c/trace-context repository), not part of the dice service.
 *
 * For `POST /test` with a JSON list of `{url, arguments}`, it calls each
 * `url` in turn with `arguments` as its JSON body, through the instrumented
 * `fetch`, so that the suite sees what this service's propagators send on
 * after receiving its headers. It listens on 127.0.0.1 only, and the
 * permission set lets it call this machine only.
 *
 * ```sh
 * PORT=5000 OTEL_TRACES_EXPORTER=none deno task conformance
 * ```
 *
 * @module
 */

import { ConfigError, readConfig } from "../../internal/config.ts";
import { messageOf } from "../../internal/errors.ts";
import { TEXT_PLAIN_HEADERS } from "../../internal/http.ts";
import { logToStderr } from "../../internal/stderr.ts";
import { type RouteHandler, ServeMux } from "../../internal/mux.ts";
import { setupOTelSDK } from "../../otel.ts";
import {
  type Fetch,
  newFetch,
  newHandler,
  type ServeHandler,
  withRouteTag,
} from "../../otelhttp/mod.ts";
import { shutdownSignal } from "../../internal/signals.ts";

interface Call {
  url: string;
  arguments: Call[];
}

function isCalls(value: unknown): value is Call[] {
  return Array.isArray(value) &&
    value.every((call) =>
      typeof call?.url === "string" && Array.isArray(call.arguments)
    );
}

/** Makes the handler of `POST /test`, calling on through `otelFetch`. */
export function newTestHandler(otelFetch: Fetch): RouteHandler {
  return async function test(request) {
    if (request.method !== "POST") {
      return new Response("405 method not allowed\n", {
        status: 405,
        headers: { ...TEXT_PLAIN_HEADERS, allow: "POST" },
      });
    }
    const calls = await request.json().catch(() => undefined);
    if (!isCalls(calls)) {
      return new Response(
        '400 bad request: expected [{"url": ..., "arguments": [...]}]\n',
        {
          status: 400,
          headers: TEXT_PLAIN_HEADERS,
        },
      );
    }
    for (const call of calls) {
      const response = await otelFetch(call.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(call.arguments),
      });
      await response.body?.cancel();
    }
    return new Response("ok\n", { headers: TEXT_PLAIN_HEADERS });
  };
}

/** The conformance service's handler: `/test` behind the HTTP instrumentation. */
export function newConformanceHandler(
  otelFetch: Fetch = newFetch(),
): ServeHandler {
  const mux = new ServeMux();
  mux.handle("/test", withRouteTag("/test", newTestHandler(otelFetch)));
  return newHandler((request) => mux.serve(request));
}

if (import.meta.main) {
  let config;
  try {
    config = readConfig((name) => Deno.env.get(name), logToStderr);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logToStderr(error.message);
    Deno.exit(2);
  }
  const signal = shutdownSignal((code) => Deno.exit(code));
  const otelShutdown = await setupOTelSDK({ config, warn: logToStderr });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: config.port,
    onListen: ({ hostname, port }) =>
      logToStderr(`listening on http://${hostname}:${port}/test`),
  }, newConformanceHandler());
  await signal;
  await server.shutdown();
  await otelShutdown().catch((error) => logToStderr(messageOf(error)));
  Deno.exit(0);
}
