/**
 * Span, log record and metric exporters that print JSON documents to stdout,
 * carrying the same fields, under the same names, as OpenTelemetry Go's
 * `stdouttrace`, `stdoutlog` and `stdoutmetric` exporters that the Go
 * getting-started walkthrough prints.
 *
 * The SDK's own console exporters print `util.inspect` output, which is
 * neither JSON nor safe for a terminal when a value holds escape sequences.
 * These documents are always valid JSON, and every control character in them
 * is escaped, so nothing a client sends can move the cursor or recolour the
 * terminal. Exporters that share one {@linkcode stdoutSink} never interleave
 * their documents.
 *
 * The JavaScript SDK does not count a span's children, which Go prints as
 * `ChildSpanCount`: register a {@linkcode ChildSpanCounter} as the first span
 * processor of the tracer provider, or every span prints 0.
 *
 * @example Print each span as it ends
 * ```ts
 * import assert from "node:assert/strict";
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
 * provider.getTracer("example").startSpan("roll").end();
 * await provider.shutdown();
 * assert.match(printed, /^\{"Name":"roll",/);
 * ```
 *
 * @module
 */

export {
  CONSOLE_FORMATS,
  type ConsoleFormat,
  formatTime,
  render,
} from "./json_writer.ts";
export {
  type StdoutSink,
  stdoutSink,
  type StdoutSinkOptions,
  type TextSink,
} from "./sink.ts";
export { MAX_UNWRITTEN_BYTES, type StdoutExporterOptions } from "./exporter.ts";
export { childSpanCount, ChildSpanCounter } from "./child_span_counter.ts";
export { spanDocument, StdoutSpanExporter } from "./trace.ts";
export { logRecordDocument, StdoutLogRecordExporter } from "./log.ts";
export { StdoutMetricExporter } from "./metric.ts";
