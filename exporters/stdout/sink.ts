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
   * Writes `bytes`, which hold `documents` documents, whole; resolves with
   * how many were written whole (nothing: all of them), and rejects when
   * it cannot write. The exporter reuses `bytes` once the promise settles.
   */
  write(bytes: Uint8Array, documents: number): Promise<number | void>;
  /** How many bytes it was given and has not written yet, from every exporter. */
  readonly unwritten: number;
  /** Resolves once fewer than `bytes` wait to be written. */
  whenBelow?(bytes: number): Promise<void>;
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
  /** How many documents were never written: stdout no longer accepted writes, or the sink was stopped. */
  readonly dropped: number;
  /**
   * Starts no new document from now on: the one being written is finished,
   * the rest dropped and counted. For the moment before the process exits,
   * so that only whole documents reach stdout.
   */
  stop(): void;
}

/**
 * The longest a single write to stdout is meant to take, in ms: each write
 * is sized by how fast stdout took the last ones, so that when the sink is
 * stopped the write under way ends soon, and no document is cut by the
 * exit. Blocking writes to a pipe cannot be interrupted.
 */
export const WRITE_TARGET_MILLIS = 100;

// The smallest and the largest write: small enough for a reader at a few
// KB/s, large enough that a fast stdout takes a batch in one write.
const MIN_WRITE_BYTES = 4 * 1024;
const MAX_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * Writes to stdout one write at a time, so that the documents of the three
 * exporters never interleave, even when a pipe accepts only part of a write;
 * the exports that arrive meanwhile go out together, in order, next. Each
 * write is as large as stdout takes in {@linkcode WRITE_TARGET_MILLIS}.
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
  done(written: number): void;
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
  #stopped = false;
  #dropped = 0;
  #unwritten = 0;
  #writeBytes = MIN_WRITE_BYTES;
  #roomWaiters: Array<{ below: number; resolve(): void }> = [];
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

  stop(): void {
    this.#stopped = true;
  }

  whenBelow(bytes: number): Promise<void> {
    if (this.#unwritten < bytes || this.#failed || this.#stopped) {
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#roomWaiters.push({ below: bytes, resolve })
    );
  }

  write(bytes: Uint8Array, documents: number): Promise<number> {
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
      const bytes = this.#join(exports.map((e) => e.bytes));
      const written = await this.#writeWhole(bytes);
      let start = 0;
      for (const e of exports) {
        const end = start + e.bytes.length;
        const documents = written >= end
          ? e.documents
          : documentsIn(bytes, start, end, written);
        this.#dropped += e.documents - documents;
        this.#unwritten -= e.bytes.length;
        e.done(documents);
        start = end;
      }
      this.#wakeRoomWaiters();
    }
    this.#writing = false;
  }

  // Writes `bytes`, in writes sized to stdout's pace and ending where a
  // document ends; once stopped, only to the end of the document under way.
  // Returns how many bytes were written.
  async #writeWhole(bytes: Uint8Array): Promise<number> {
    let offset = 0;
    try {
      while (offset < bytes.length && !this.#failed) {
        // Each write ends where a document ends: the documents of several
        // workers writing to one stdout (deno serve) then never interleave,
        // as each write goes out whole; but for a document longer than one
        // write, which only a stdout slower than a few KB per 100 ms sees.
        const end = this.#stopped
          ? documentEnd(bytes, offset)
          : writeEnd(bytes, offset, offset + this.#writeBytes);
        if (end === offset) break;
        const started = performance.now();
        const wrote = await this.#output.write(bytes.subarray(offset, end));
        offset += wrote;
        this.#pace(wrote, performance.now() - started);
      }
    } catch (error) {
      this.#failed = true;
      this.#warn(
        `stdout does not accept telemetry any more (${describe(error)}); ` +
          "console telemetry is dropped from now on, and counted",
      );
    }
    return offset;
  }

  // The next write's size. A write that ended within WRITE_TARGET_MILLIS
  // was fast, and the next may be twice as large: `millis` holds the event
  // loop's own delays too, and a busy service that shrank its writes for
  // them would spend its time on many small writes, which only a slow
  // reader needs (measured: p99 from 14 ms to 800 ms under load). A slower
  // write sets the size to what stdout takes in WRITE_TARGET_MILLIS.
  #pace(bytes: number, millis: number): void {
    const fits = millis <= WRITE_TARGET_MILLIS
      ? this.#writeBytes * 2
      : (bytes / millis) * WRITE_TARGET_MILLIS;
    this.#writeBytes = Math.max(
      MIN_WRITE_BYTES,
      Math.min(fits, MAX_WRITE_BYTES),
    );
  }

  #wakeRoomWaiters(): void {
    const open = this.#failed || this.#stopped;
    this.#roomWaiters = this.#roomWaiters.filter((waiter) => {
      if (!open && this.#unwritten >= waiter.below) return true;
      waiter.resolve();
      return false;
    });
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

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;

// Where the document under way at `from` ends: documents, pretty or
// compact, end with a newline, and the next starts with "{" at the start of
// a line (nested lines are indented, and strings escape their newlines).
function documentEnd(bytes: Uint8Array, from: number): number {
  if (from === 0) return 0;
  for (let at = from; at < bytes.length; at++) {
    if (at > 0 && bytes[at - 1] === NEWLINE && bytes[at] === OPEN_BRACE) {
      return at;
    }
  }
  return bytes.length;
}

// Where a write from `offset` that should end near `target` ends: at the
// last document's end before it, so that each write holds whole documents;
// a document longer than one write (stdout is slow) is split at `target`
// rather than written whole, which could outlast the deadline's margin.
function writeEnd(bytes: Uint8Array, offset: number, target: number): number {
  if (target >= bytes.length) return bytes.length;
  for (let at = target; at > offset; at--) {
    if (bytes[at - 1] === NEWLINE && bytes[at] === OPEN_BRACE) return at;
  }
  return target;
}

// How many documents of bytes[start, end) lie whole below `written`.
function documentsIn(
  bytes: Uint8Array,
  start: number,
  end: number,
  written: number,
): number {
  let documents = 0;
  for (let at = start; at < Math.min(end, written); at++) {
    if (
      bytes[at] === NEWLINE && (at + 1 === end || bytes[at + 1] === OPEN_BRACE)
    ) {
      documents++;
    }
  }
  return documents;
}

// The error's class tells a closed pipe (BrokenPipe) from a full disk.
function describe(error: unknown): string {
  const name = error instanceof Error ? `${error.name}: ` : "";
  return name + messageOf(error);
}
