/**
 * The dice service on Deno's built-in OpenTelemetry (`OTEL_DENO=true`), for
 * the benchmark: Deno instruments `Deno.serve` itself; the route is set on
 * its server span by hand, as Deno's documentation advises, and the `roll`
 * span, the `dice.rolls` counter and the log record (`console.log`, which
 * Deno exports as a log record) are the same as in rolldice.ts.
 *
 * @module
 */

import { metrics, trace } from "@opentelemetry/api";
import { type PathValues, ServeMux } from "../internal/mux.ts";
import { serveForBench } from "./serve.ts";

const tracer = trace.getTracer("dice");
const rollCnt = metrics.getMeter("dice").createCounter("dice.rolls", {
  description: "The number of rolls by roll value",
  unit: "{roll}",
});

function route(pattern: string, handler: (pathValues: PathValues) => Response) {
  return function routed(_request: Request, pathValues: PathValues): Response {
    const span = trace.getActiveSpan();
    span?.setAttribute("http.route", pattern);
    span?.updateName(`GET ${pattern}`);
    return handler(pathValues);
  };
}

function rolldice(pathValues: PathValues): Response {
  return tracer.startActiveSpan("roll", (span) => {
    const roll = 1 + Math.floor(Math.random() * 6);
    const player = pathValues.player;
    console.log(
      player
        ? `${player} is rolling the dice`
        : "Anonymous player is rolling the dice",
    );
    span.setAttribute("roll.value", roll);
    rollCnt.add(1, { "roll.value": roll });
    span.end();
    return new Response(`${roll}\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  });
}

const mux = new ServeMux();
for (const pattern of ["/rolldice", "/rolldice/", "/rolldice/{player}"]) {
  mux.handle(pattern, route(pattern, rolldice));
}
serveForBench((request) => mux.serve(request));
