/**
 * The dice handler: Go's `rolldice.go` with a manual span, a counter and a
 * log record.
 *
 * @module
 */

import {
  context,
  logs,
  metrics,
  SeverityNumber,
  trace,
  ValueType,
} from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import denoJson from "./deno.json" with { type: "json" };
import { textResponse } from "./internal/http.ts";
import type { RouteHandler } from "./internal/mux.ts";

/** The instrumentation scope of the telemetry the dice handler records. */
export const DICE_SCOPE_NAME = "dice";

/** The attribute that carries the rolled number on the span and the counter. */
export const ATTR_ROLL_VALUE = "roll.value";

/**
 * Creates the handler that rolls a die for the `player` path value, or for an
 * anonymous player.
 *
 * Unlike Go's API, the JavaScript API hands out no-op meters until a
 * provider is registered, so the tracer, meter, counter and logger are made
 * here, after the SDK is set up, not when the module loads. `random` is
 * replaceable for tests.
 */
export function newRollDice(random: () => number = Math.random): RouteHandler {
  const tracer = trace.getTracer(DICE_SCOPE_NAME, denoJson.version);
  const meter = metrics.getMeter(DICE_SCOPE_NAME, denoJson.version);
  const logger = logs.getLogger(DICE_SCOPE_NAME, denoJson.version);
  const rollCnt = meter.createCounter("dice.rolls", {
    description: "The number of rolls by roll value",
    unit: "{roll}",
    valueType: ValueType.INT,
  });

  return function rolldice(_request, pathValues) {
    // Every time comes from hrTime(), the SDK's monotonic high-resolution
    // clock: left to itself, the SDK takes a span's start from Date.now(),
    // in whole milliseconds, and the roll could start after its parent ended.
    const span = tracer.startSpan("roll", { startTime: hrTime() });
    // As Go's tracer.Start returns the context that holds the new span, and
    // its logger takes that context: the log record carries the roll span's
    // trace and span IDs. Passed by hand rather than made active with
    // startActiveSpan, which would cost one more context switch per request.
    const ctx = trace.setSpan(context.active(), span);
    try {
      const roll = 1 + Math.floor(random() * 6);
      const player = pathValues.player;
      const msg = player
        ? `${player} is rolling the dice`
        : "Anonymous player is rolling the dice";
      const now = hrTime();
      logger.emit({
        timestamp: now,
        observedTimestamp: now,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        body: msg,
        attributes: { result: roll },
        context: ctx,
      });
      span.setAttribute(ATTR_ROLL_VALUE, roll);
      rollCnt.add(1, { [ATTR_ROLL_VALUE]: roll }, ctx);
      return textResponse(`${roll}\n`);
    } finally {
      span.end(hrTime());
    }
  };
}
