/**
 * What the span, log record and metric stdout exporters share: the options,
 * a reused buffer to write each batch into, the resource and scope rendered
 * once, the handover to the sink, and the flushing and shutting down.
 *
 * @module
 */

import {
  type ExportResult,
  ExportResultCode,
  globalErrorHandler,
} from "@opentelemetry/core";
import {
  type ConsoleFormat,
  JsonWriter,
  type Layout,
  layoutOf,
  renderAt,
  utf8,
} from "./json_writer.ts";
import { stdoutSink, type TextSink } from "./sink.ts";

/** Options shared by the three stdout exporters. */
export interface StdoutExporterOptions {
  /**
   * Where the documents go. Exporters that share one sink never interleave
   * their documents.
   *
   * @default {stdoutSink()}
   */
  sink?: TextSink;
  /**
   * Pretty-printed documents with tabs, as Go prints them, or one compact
   * document per line.
   *
   * @default {"pretty"}
   */
  format?: ConsoleFormat;
  /**
   * Told how many items' documents were written whole, once they are: what
   * stdout confirmed, for the ledger (`internal/ledger.ts`).
   */
  onWritten?: (items: number) => void;
}

/**
 * How much the exporters let wait in their sink before exports wait for it:
 * past it, an exporter renders its next batch only once the sink is below
 * it again, so that the sink holds at most this and one batch per exporter.
 */
export const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;

// Enough for an export being rendered while two wait in the sink.
const SPARE_BUFFERS = 3;

/**
 * The base of the three stdout exporters: each says how to write the
 * document of one item, this class writes a batch of them and hands it to
 * the sink.
 */
// The room a buffer starts with, and keeps beyond its largest batch.
const SPARE_BYTES = 64 * 1024;

export abstract class StdoutExporter<Item> {
  readonly #sink: TextSink;
  readonly #pending = new Set<Promise<void>>();
  readonly #shared = new WeakMap<object, Uint8Array>();
  // The size of the largest export so far, and room for a document more:
  // batches are alike, so the next one fits without growing its buffer.
  #capacity = SPARE_BYTES;
  // Buffers whose bytes the sink has written, for the next exports: a
  // fresh megabyte for every batch cost more, in page faults, than the
  // rendering of the batch into it.
  readonly #spare: Uint8Array[] = [];
  #stopped = false;
  readonly #onWritten?: (items: number) => void;
  // The exports waiting for room in the sink, one after the other.
  #waitingForRoom: Promise<void> | undefined;
  /** How this exporter lays its documents out. */
  protected readonly layout: Layout;
  /**
   * Whether an export is reported only once written, and failed when it
   * was not: for metrics, whose delivery the ledger counts by the result.
   */
  protected readonly reportWhenWritten: boolean = false;

  /** An exporter that writes to `options.sink`, in `options.format`. */
  constructor(options: StdoutExporterOptions = {}) {
    this.#sink = options.sink ?? stdoutSink();
    this.layout = layoutOf(options.format ?? "pretty");
    this.#onWritten = options.onWritten;
  }

  /** Writes the document of one item, and ends its line. */
  protected abstract writeDocument(item: Item, out: JsonWriter): void;

  /**
   * The JSON of a field that many documents share, such as a resource or an
   * instrumentation scope: rendered once per object, then copied as bytes.
   * The resource alone is half of every document.
   */
  protected shared(key: object, document: () => unknown): Uint8Array {
    let bytes = this.#shared.get(key);
    if (bytes === undefined) {
      bytes = utf8(renderAt(document(), this.layout, 1));
      this.#shared.set(key, bytes);
    }
    return bytes;
  }

  /** Writes the documents of `items` at once, and reports the export. */
  protected exportItems(
    items: readonly Item[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    if (this.#stopped) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error("the stdout exporter is shut down"),
      });
      return;
    }
    const sink = this.#sink;
    if (
      this.#waitingForRoom === undefined &&
      (sink.whenBelow === undefined || sink.unwritten < MAX_UNWRITTEN_BYTES)
    ) {
      this.#render(items, resultCallback);
      return;
    }
    // Rendered only once there is room: the items wait, not their bytes.
    const next = (this.#waitingForRoom ?? Promise.resolve())
      .then(() => sink.whenBelow?.(MAX_UNWRITTEN_BYTES))
      .then(() => this.#render(items, resultCallback));
    this.#waitingForRoom = next;
    this.#track(next.finally(() => {
      if (this.#waitingForRoom === next) this.#waitingForRoom = undefined;
    }));
  }

  #render(
    items: readonly Item[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    const bytes = this.#writeDocuments(items);
    // The processor sends its next batch only once this one is reported.
    // Waiting for the write would hold it for as long as the event loop
    // takes to come back to the write, and under load its queue would fill
    // meanwhile; so a batch counts as exported once it is in the sink, for
    // as long as less than MAX_UNWRITTEN_BYTES waits in the sink, which the
    // three exporters share. Beyond that the processor waits, its bounded
    // queue fills, and it drops and counts.
    const early = !this.reportWhenWritten &&
      this.#sink.unwritten + bytes.length <= MAX_UNWRITTEN_BYTES;
    const written = this.#sink.write(bytes, items.length)
      .finally(() => this.#keepSpare(bytes));
    if (early) resultCallback({ code: ExportResultCode.SUCCESS });
    this.#track(written.then(
      (documents) => {
        const whole = documents ?? items.length;
        if (whole > 0) this.#onWritten?.(whole);
        if (early) return;
        resultCallback(
          whole === items.length ? { code: ExportResultCode.SUCCESS } : {
            code: ExportResultCode.FAILED,
            error: new Error(
              `${items.length - whole} documents never reached stdout`,
            ),
          },
        );
      },
      (error) => {
        if (early) globalErrorHandler(error);
        else resultCallback({ code: ExportResultCode.FAILED, error });
      },
    ));
  }

  /** Resolves once every export handed over so far is written. */
  async forceFlush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** Refuses further exports and waits for the ones under way. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    await this.forceFlush();
  }

  #writeDocuments(items: readonly Item[]): Uint8Array {
    const out = new JsonWriter(
      this.layout,
      this.#spare.pop() ?? new Uint8Array(this.#capacity),
    );
    for (const item of items) this.writeDocument(item, out);
    const bytes = out.written();
    this.#capacity = Math.max(this.#capacity, bytes.length + SPARE_BYTES);
    return bytes;
  }

  // Called once the sink is done with `bytes`: their buffer is free again.
  #keepSpare(bytes: Uint8Array): void {
    if (this.#spare.length < SPARE_BUFFERS) {
      this.#spare.push(new Uint8Array(bytes.buffer));
    }
  }

  #track(reported: Promise<void>): void {
    this.#pending.add(reported);
    reported.finally(() => this.#pending.delete(reported));
  }
}
