/**
 * The W3C Trace Context (Level 2) propagator.
 *
 * It reuses the SDK where it is right and replaces only what it gets wrong:
 *
 * - `traceparent` is parsed by the SDK's `parseTraceParent`.
 * - `tracestate` is parsed here, because the SDK's `TraceState` follows an
 *   older key grammar: it drops keys such as `foo@@bar`, `0abc` or a
 *   256-character key, keeps the rest of a header that has an invalid
 *   member, and accepts a 33rd member. Here a header is taken whole, by the
 *   Level 2 grammar, or not at all.
 * - The Level 2 `random-trace-id` flag is propagated: set when the incoming
 *   `traceparent` had it, or when this service started the trace itself
 *   (the SDK's trace IDs are random); the SDK alone always drops it.
 *
 * `trace_context_test.ts` holds each case; `deno task conformance` serves
 * the W3C test suite's endpoint, and `tools/conformance/main_test.ts` runs
 * its cases against this propagator.
 *
 * @module
 */

import {
  type Context,
  createContextKey,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
  TraceFlags,
  type TraceState,
} from "@opentelemetry/api";
import { isTracingSuppressed, parseTraceParent } from "@opentelemetry/core";
import { headerValue } from "./header.ts";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";

/** The Level 2 `random-trace-id` flag of `trace-flags`. */
export const RANDOM_TRACE_ID_FLAG = 0x02;

// Whether the trace of this context has a random trace ID, as far as
// this service knows.
const RANDOM_TRACE_ID = createContextKey("dice W3C random-trace-id");

/** Propagates `traceparent` and `tracestate` by W3C Trace Context Level 2. */
export class W3CTraceContextPropagator implements TextMapPropagator {
  /** Writes the context's span as `traceparent`, and its `tracestate`. */
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (
      !spanContext || !isSpanContextValid(spanContext) ||
      isTracingSuppressed(context)
    ) return;
    // Flags this version does not define go out as 0.
    let flags = spanContext.traceFlags & TraceFlags.SAMPLED;
    if (context.getValue(RANDOM_TRACE_ID) === true) {
      flags |= RANDOM_TRACE_ID_FLAG;
    }
    setter.set(
      carrier,
      TRACEPARENT,
      `00-${spanContext.traceId}-${spanContext.spanId}-0${flags.toString(16)}`,
    );
    const traceState = spanContext.traceState?.serialize();
    if (traceState) setter.set(carrier, TRACESTATE, traceState);
  }

  /** Reads a remote parent from `traceparent` and `tracestate`. */
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, TRACEPARENT);
    // Two traceparent fields cannot be one valid value.
    const parent = typeof header === "string" ? parseTraceParent(header) : null;
    // Without a valid parent, spans here start a trace of their own, whose
    // trace ID the SDK generates at random.
    if (!parent) return context.setValue(RANDOM_TRACE_ID, true);
    return trace.setSpanContext(
      context.setValue(
        RANDOM_TRACE_ID,
        (parent.traceFlags & RANDOM_TRACE_ID_FLAG) !== 0,
      ),
      {
        ...parent,
        isRemote: true,
        traceState: parseTraceState(headerValue(getter, carrier, TRACESTATE)),
      },
    );
  }

  /** The headers this propagator reads and writes. */
  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

const MAX_MEMBERS = 32;
// At least 512 characters must be propagated; more need not be.
const MAX_COMBINED_LENGTH = 512;
const LARGE_MEMBER_LENGTH = 128;
const KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
const VALUE =
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a `tracestate` value: all of it, or undefined when any member
 * breaks the grammar or there are more than 32. Duplicate keys keep their
 * first value. A value longer than 512 characters is cut by whole members,
 * those over 128 characters first, then from the right.
 */
export function parseTraceState(
  header: string | undefined,
): TraceState | undefined {
  if (header === undefined) return undefined;
  const members = new Map<string, string>();
  let count = 0;
  for (const field of header.split(",")) {
    const member = field.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue; // empty members are allowed
    const equals = member.indexOf("=");
    const key = member.slice(0, equals);
    const value = member.slice(equals + 1);
    if (equals < 0 || !KEY.test(key) || !VALUE.test(value)) return undefined;
    if (++count > MAX_MEMBERS) return undefined;
    if (!members.has(key)) members.set(key, value);
  }
  return new W3CTraceState(truncated(members));
}

function serializedLength(members: Map<string, string>): number {
  let length = Math.max(members.size - 1, 0);
  for (const [key, value] of members) length += key.length + 1 + value.length;
  return length;
}

function truncated(members: Map<string, string>): Map<string, string> {
  if (serializedLength(members) <= MAX_COMBINED_LENGTH) return members;
  const kept = new Map(members);
  for (const [key, value] of [...kept].reverse()) {
    if (serializedLength(kept) <= MAX_COMBINED_LENGTH) return kept;
    if (key.length + 1 + value.length > LARGE_MEMBER_LENGTH) kept.delete(key);
  }
  for (const key of [...kept.keys()].reverse()) {
    if (serializedLength(kept) <= MAX_COMBINED_LENGTH) break;
    kept.delete(key);
  }
  return kept;
}

/** An immutable `tracestate`, with the W3C rules for changing it. */
class W3CTraceState implements TraceState {
  readonly #members: ReadonlyMap<string, string>;

  constructor(members: ReadonlyMap<string, string>) {
    this.#members = members;
  }

  /** Adds or updates `key`, which moves to the front; an invalid pair changes nothing. */
  set(key: string, value: string): TraceState {
    if (!KEY.test(key) || !VALUE.test(value)) return this;
    const members = new Map([[key, value]]);
    for (const [k, v] of this.#members) if (k !== key) members.set(k, v);
    if (members.size > MAX_MEMBERS) return this;
    return new W3CTraceState(truncated(members));
  }

  /** Removes `key`. */
  unset(key: string): TraceState {
    if (!this.#members.has(key)) return this;
    const members = new Map(this.#members);
    members.delete(key);
    return new W3CTraceState(members);
  }

  /** The value of `key`, if any. */
  get(key: string): string | undefined {
    return this.#members.get(key);
  }

  /** The header value, members in order. */
  serialize(): string {
    return [...this.#members].map(([key, value]) => `${key}=${value}`).join(
      ",",
    );
  }
}
