/**
 * W3C context propagation: Trace Context (Level 2) and Baggage, read and
 * written as the specifications say, for `propagation.setGlobalPropagator`.
 *
 * @example Propagate both, as the service does by default
 * ```ts
 * import { propagation } from "@opentelemetry/api";
 * import { CompositePropagator } from "@opentelemetry/core";
 * import {
 *   W3CBaggagePropagator,
 *   W3CTraceContextPropagator,
 * } from "./mod.ts";
 *
 * propagation.setGlobalPropagator(
 *   new CompositePropagator({
 *     propagators: [
 *       new W3CTraceContextPropagator(),
 *       new W3CBaggagePropagator(),
 *     ],
 *   }),
 * );
 * propagation.disable();
 * ```
 *
 * @module
 */

export * from "./baggage.ts";
export * from "./trace_context.ts";
