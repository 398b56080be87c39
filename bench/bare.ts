/**
 * The benchmark's baseline: the dice routes on bare `Deno.serve`, with the
 * same router and no telemetry at all, the most this runtime can do.
 *
 * @module
 */

import { ServeMux } from "../internal/mux.ts";
import { serveForBench } from "./serve.ts";

const mux = new ServeMux();
function rolldice(): Response {
  const roll = 1 + Math.floor(Math.random() * 6);
  return new Response(`${roll}\n`, {
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
mux.handle("/rolldice", rolldice);
mux.handle("/rolldice/", rolldice);
mux.handle("/rolldice/{player}", rolldice);

/** The dice routes, without telemetry. */
export function bareHandler(request: Request): Response | Promise<Response> {
  return mux.serve(request);
}

if (import.meta.main) serveForBench(bareHandler);
