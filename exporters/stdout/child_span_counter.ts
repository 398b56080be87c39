/**
 * Go's `ChildSpanCount` for the JavaScript SDK, which does not keep it: a
 * span processor, {@linkcode ChildSpanCounter}, counts the children started
 * under each span, and {@linkcode childSpanCount} reads the count, as the
 * `StdoutSpanExporter` does for every document.
 *
 * @module
 */

import { type Context, type Span as ApiSpan, trace } from "@opentelemetry/api";
import type {
  ReadableSpan,
  Span,
  SpanProcessor,
} from "@opentelemetry/sdk-trace";

// Keyed by the parent span object itself, which the SDK later hands to the
// exporters: a span that nothing refers to any more takes its count with it.
const CHILD_SPAN_COUNTS = new WeakMap<object, number>();

/**
 * A span processor that counts, for each span, the children started under
 * it, as Go's SDK counts them: only under a local span that is still
 * recording (not a remote parent, not a span that has ended or was never
 * sampled), and in the same trace. Go counts a child whether or not the
 * child is sampled; a processor hears of recording spans only, so a child
 * that the sampler drops is not counted here.
 *
 * Register one counter per tracer provider, as its first span processor, so
 * that every other processor sees a child already counted; without one,
 * every span prints `ChildSpanCount` 0, and a second one would count each
 * child twice.
 *
 * @example Count the children of each span, then print each span
 * ```ts
 * import assert from "node:assert/strict";
 * import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
 * import { SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
 * import { ChildSpanCounter, StdoutSpanExporter, type TextSink } from "./mod.ts";
 *
 * // Documents go to stdout by default; here, to a string.
 * let printed = "";
 * const sink: TextSink = {
 *   unwritten: 0,
 *   write(bytes) {
 *     printed += new TextDecoder().decode(bytes);
 *     return Promise.resolve();
 *   },
 * };
 * const provider = new TracerProvider({
 *   spanProcessors: [
 *     new ChildSpanCounter(),
 *     new SimpleSpanProcessor({
 *       exporter: new StdoutSpanExporter({ format: "compact", sink }),
 *     }),
 *   ],
 * });
 * const tracer = provider.getTracer("example");
 * const parent = tracer.startSpan("parent");
 * tracer.startSpan("child", {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
 * parent.end();
 * await provider.shutdown();
 * assert.match(printed, /"Name":"parent",.*"ChildSpanCount":1,/);
 * ```
 */
export class ChildSpanCounter implements SpanProcessor {
  /** Counts `span` as a child of the span in `parentContext`, if Go would. */
  onStart(span: Span, parentContext: Context): void {
    const parent = trace.getSpan(parentContext);
    // A remote parent is a non-recording span that wraps its context.
    if (parent === undefined || !parent.isRecording()) return;
    const { isRemote, traceId } = parent.spanContext();
    if (isRemote || traceId !== span.spanContext().traceId) return;
    CHILD_SPAN_COUNTS.set(parent, (CHILD_SPAN_COUNTS.get(parent) ?? 0) + 1);
  }

  /** Does nothing: a count is read from the span when it is exported. */
  onEnd(): void {}

  /** Resolves at once: nothing waits to be done. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves at once: the counts go with their spans. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * How many children a {@linkcode ChildSpanCounter} counted under `span`,
 * which is the same object whether a tracer started it or the SDK hands it
 * to an exporter; 0 when no counter was registered.
 *
 * @example Read the count of an exported span
 * ```ts
 * import assert from "node:assert/strict";
 * import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
 * import {
 *   InMemorySpanExporter,
 *   SimpleSpanProcessor,
 *   TracerProvider,
 * } from "@opentelemetry/sdk-trace";
 * import { ChildSpanCounter, childSpanCount } from "./mod.ts";
 *
 * const spans = new InMemorySpanExporter();
 * const provider = new TracerProvider({
 *   spanProcessors: [
 *     new ChildSpanCounter(),
 *     new SimpleSpanProcessor({ exporter: spans }),
 *   ],
 * });
 * const tracer = provider.getTracer("example");
 * const parent = tracer.startSpan("parent");
 * const inParent = trace.setSpan(ROOT_CONTEXT, parent);
 * tracer.startSpan("first", {}, inParent).end();
 * tracer.startSpan("second", {}, inParent).end();
 * parent.end();
 * const [first, second, ended] = spans.getFinishedSpans();
 * assert.deepEqual([first, second, ended].map(childSpanCount), [0, 0, 2]);
 * await provider.shutdown();
 * ```
 */
export function childSpanCount(span: ReadableSpan | ApiSpan): number {
  return CHILD_SPAN_COUNTS.get(span) ?? 0;
}
