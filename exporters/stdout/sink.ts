/**
 * Where the stdout exporters' documents go: {@linkcode TextSink}, and
 * {@linkcode stdoutSink}, which the three exporters of a service share so
 * that their documents never interleave.
 *
 * @module
 */

import { messageOf } from "../../internal/errors.ts";
import { logToStderr } from "../../internal/stderr.ts";

/** Receives the UTF-8 text of one export and resolves once all of it is written. */
export interface TextSink {
  /**
   * Writes `bytes`, which hold `documents` documents, whole; rejects when it
   * cannot. The exporter reuses `bytes` once the promise settles.
   */
  write(bytes: Uint8Array, documents: number): Promise<void>;
  /** How many bytes it was given and has not written yet, from every exporter. */
  readonly unwritten: number;
}

/** What {@linkcode stdoutSink} writes to, and whom it tells when it cannot. */
export interface StdoutSinkOptions {
  /**
   * Where the bytes go.
   *
   * @default {Deno.stdout}
   */
  output?: { write(bytes: Uint8Array): Promise<number> };
  /**
   * Told once, when the output stops accepting writes.
   *
   * @default {logToStderr}
   */
  warn?: (message: string) => void;
}

/** A {@linkcode TextSink} for stdout that survives stdout going away. */
export interface StdoutSink extends TextSink {
  /** How many documents were dropped because stdout no longer accepted writes. */
  readonly dropped: number;
}

/**
 * Writes to stdout one write at a time, so that the documents of the three
 * exporters never interleave, even when a pipe accepts only part of a write;
 * the exports that arrive meanwhile go out together, in order, next.
 *
 * When stdout stops accepting writes (`dice | head -c 100` closes the pipe),
 * it says so once through `warn`, then drops and counts every document
 * instead of failing every export, which would report the same loss on
 * every batch forever. The service keeps serving either way.
 */
export function stdoutSink(options: StdoutSinkOptions = {}): StdoutSink {
  return new QueuedSink(
    options.output ?? Deno.stdout,
    options.warn ?? logToStderr,
  );
}

interface WaitingExport {
  bytes: Uint8Array;
  documents: number;
  done(): void;
}

class QueuedSink implements StdoutSink {
  readonly #output: NonNullable<StdoutSinkOptions["output"]>;
  readonly #warn: (message: string) => void;
  // Exports that arrive while a write is under way wait here, and go out
  // together in the next write: one write per turn of the event loop,
  // whatever the number of exports, keeps up with a loaded service.
  #waiting: WaitingExport[] = [];
  #writing = false;
  #failed = false;
  #dropped = 0;
  #unwritten = 0;
  // What the exports that waited are copied into, to go out in one write;
  // kept for the next such write, as the exporters keep theirs.
  #joined = new Uint8Array(0);

  constructor(
    output: NonNullable<StdoutSinkOptions["output"]>,
    warn: (message: string) => void,
  ) {
    this.#output = output;
    this.#warn = warn;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get unwritten(): number {
    return this.#unwritten;
  }

  write(bytes: Uint8Array, documents: number): Promise<void> {
    this.#unwritten += bytes.length;
    return new Promise((done) => {
      this.#waiting.push({ bytes, documents, done });
      if (!this.#writing) this.#writeWaiting();
    });
  }

  async #writeWaiting(): Promise<void> {
    this.#writing = true;
    while (this.#waiting.length > 0) {
      const exports = this.#waiting;
      this.#waiting = [];
      await this.#writeOrDrop(
        this.#join(exports.map((e) => e.bytes)),
        exports.reduce((sum, e) => sum + e.documents, 0),
      );
      for (const e of exports) {
        this.#unwritten -= e.bytes.length;
        e.done();
      }
    }
    this.#writing = false;
  }

  async #writeOrDrop(bytes: Uint8Array, documents: number): Promise<void> {
    if (!this.#failed) {
      try {
        for (let offset = 0; offset < bytes.length;) {
          offset += await this.#output.write(bytes.subarray(offset));
        }
        return;
      } catch (error) {
        this.#failed = true;
        this.#warn(
          `stdout does not accept telemetry any more (${describe(error)}); ` +
            "console telemetry is dropped from now on, and counted",
        );
      }
    }
    this.#dropped += documents;
  }

  #join(chunks: Uint8Array[]): Uint8Array {
    if (chunks.length === 1) return chunks[0];
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (this.#joined.length < length) this.#joined = new Uint8Array(length * 2);
    let offset = 0;
    for (const chunk of chunks) {
      this.#joined.set(chunk, offset);
      offset += chunk.length;
    }
    return this.#joined.subarray(0, length);
  }
}

// The error's class tells a closed pipe (BrokenPipe) from a full disk.
function describe(error: unknown): string {
  const name = error instanceof Error ? `${error.name}: ` : "";
  return name + messageOf(error);
}
