/**
 * The JSON that the stdout exporters print: laid out as Go's stdout exporters
 * lay it out (indented with tabs, or one document per line), with every
 * string escaped so that it is safe for a terminal, times as Go prints them,
 * and Go's `KeyValue` lists. {@linkcode render} renders a document built as
 * objects; {@linkcode JsonWriter} writes one straight into a UTF-8 buffer.
 *
 * This module knows JSON and its layout, not what a document holds: the
 * exporters know their own fields.
 *
 * @module
 */

import type { HrTime } from "@opentelemetry/api";

/** The console formats: pretty-printed with tabs like Go's, or one document per line. */
export const CONSOLE_FORMATS = ["pretty", "compact"] as const;

/** How documents are laid out: one of {@linkcode CONSOLE_FORMATS}. */
export type ConsoleFormat = typeof CONSOLE_FORMATS[number];

/** How one console format lays JSON out. */
export interface Layout {
  /** What starts a line at `depth`: a newline and `depth` tabs, or nothing when compact. */
  lineAt(depth: number): string;
  /** What goes between a key and its value. */
  readonly colon: string;
  /** The `space` argument that makes `JSON.stringify` lay JSON out the same way. */
  readonly space: string;
}

const LAYOUTS: Record<ConsoleFormat, Layout> = {
  // Go's stdout exporters pretty-print with tabs, as JSON.stringify does
  // with "\t": one field per line.
  pretty: {
    lineAt: (depth) => "\n" + "\t".repeat(depth),
    colon: ": ",
    space: "\t",
  },
  compact: { lineAt: () => "", colon: ":", space: "" },
};

/** The layout of `format`. */
export function layoutOf(format: ConsoleFormat): Layout {
  return LAYOUTS[format];
}

/** Renders one document as one line, or pretty-printed with tabs like Go's. */
export function render(document: unknown, format: ConsoleFormat): string {
  return renderAt(document, LAYOUTS[format], 0) + "\n";
}

/** The JSON text of `value`, laid out to sit at `depth` inside a document. */
export function renderAt(
  value: unknown,
  layout: Layout,
  depth: number,
): string {
  // Every raw newline in JSON.stringify's output is layout: the ones in
  // strings are escaped.
  const json = layout.space
    ? JSON.stringify(value, null, layout.space)
      .replaceAll("\n", layout.lineAt(depth))
    : JSON.stringify(value);
  return escapeForTerminals(json);
}

// JSON.stringify escapes U+0000..U+001F and lone surrogates; DEL and the C1
// controls (U+0080..U+009F, where U+009B is an 8-bit CSI) are valid JSON yet
// still reach a terminal raw, and U+2028/U+2029 end lines in JavaScript.
// The bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069) reorder what a terminal shows, so a name could make a line
// read as something else: escaped too.
// And <, > and &, which Go's encoding/json escapes as \u003c, \u003e and
// \u0026 (its encoders are never told otherwise), so that the bytes are
// Go's.
const UNSAFE_FOR_TERMINALS =
  /[<>&\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeForTerminals(json: string): string {
  return json.replace(UNSAFE_FOR_TERMINALS, unicodeEscape);
}

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

// A string as JSON, safe for a terminal.
function quote(value: string): string {
  return escapeForTerminals(JSON.stringify(value));
}

/**
 * Formats an HrTime in UTC as Go's `time.RFC3339Nano` does, which is how
 * encoding/json prints a `time.Time`: the fraction without its trailing
 * zeros, and none on a whole second (`…:51.096Z`, `…:51Z`).
 */
export function formatTime([seconds, nanos]: HrTime): string {
  return withNanos(dateAndTimeOf(seconds), nanos);
}

// `YYYY-MM-DDTHH:MM:SS` in UTC.
function dateAndTimeOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

function withNanos(dateAndTime: string, nanos: number): string {
  if (nanos === 0) return `${dateAndTime}Z`;
  // Dividing the zeros off first leaves one padStart and no string
  // scanning: a few integer operations per time.
  let digits = 9;
  while (nanos % 10 === 0) {
    nanos /= 10;
    digits--;
  }
  return `${dateAndTime}.${String(nanos).padStart(digits, "0")}Z`;
}

const encoder = new TextEncoder();

/** `text` as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * What precedes each field's value in an object whose fields sit at
 * `depth`: `{` before the first and `,` before the others, a new line, the
 * key and the colon. Written as these bytes, the fixed parts of a document
 * cost a copy.
 */
export function fieldKeys<const Name extends string>(
  layout: Layout,
  depth: number,
  names: readonly Name[],
): Record<Name, Uint8Array> {
  const start = (i: number) => i === 0 ? "{" : ",";
  return Object.fromEntries(names.map((name, i) => [
    name,
    utf8(`${start(i)}${layout.lineAt(depth)}${quote(name)}${layout.colon}`),
  ])) as Record<Name, Uint8Array>;
}

/** What closes an object whose fields sit at `depth`. */
export function closeObject(layout: Layout, depth: number): Uint8Array {
  return utf8(`${layout.lineAt(depth - 1)}}`);
}

/** What closes a document, and ends its line. */
export function closeDocument(layout: Layout): Uint8Array {
  return utf8(`${layout.lineAt(0)}}\n`);
}

/** A value with the name of its type, as Go's stdout exporters print values. */
export interface TypedValue {
  /** The name of the value's type, as Go's `attribute.Type` names it: `STRING`, `INT64`… */
  Type: string;
  /** The value itself. */
  Value: unknown;
}

/** One attribute as Go prints it: `{Key, Value: {Type, Value}}`. */
export interface KeyValue {
  /** The attribute's name. */
  Key: string;
  /** The attribute's value, with its type. */
  Value: TypedValue;
}

/** The fixed parts of a `KeyValue` list that is a field of a document. */
interface KeyValueParts {
  readonly firstItem: Uint8Array;
  readonly nextItem: Uint8Array;
  /** From after the key to the type name. */
  readonly type: Uint8Array;
  /** From after the type name to the value. */
  readonly value: Uint8Array;
  readonly closeItem: Uint8Array;
  readonly closeList: Uint8Array;
  readonly emptyList: Uint8Array;
  readonly nullList: Uint8Array;
}

const KEY_VALUE_PARTS = new Map<Layout, KeyValueParts>();

function keyValuePartsOf(layout: Layout): KeyValueParts {
  let parts = KEY_VALUE_PARTS.get(layout);
  if (parts) return parts;
  const { lineAt, colon } = layout;
  const item = `${lineAt(2)}{${lineAt(3)}"Key"${colon}`;
  parts = {
    firstItem: utf8(`[${item}`),
    nextItem: utf8(`,${item}`),
    type: utf8(`,${lineAt(3)}"Value"${colon}{${lineAt(4)}"Type"${colon}`),
    value: utf8(`,${lineAt(4)}"Value"${colon}`),
    closeItem: utf8(`${lineAt(3)}}${lineAt(2)}}`),
    closeList: utf8(`${lineAt(1)}]`),
    emptyList: utf8("[]"),
    nullList: utf8("null"),
  };
  KEY_VALUE_PARTS.set(layout, parts);
  return parts;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LESS = 0x3c;
const GREATER = 0x3e;
const AMPERSAND = 0x26;

/**
 * Writes JSON, laid out as {@linkcode render} lays it out, straight into a
 * UTF-8 buffer that an exporter reuses from batch to batch. Building each
 * document as objects, then `JSON.stringify`, a regular expression and
 * `TextEncoder` over the result cost several times what copying its fixed
 * parts as bytes and its strings, nearly all plain ASCII, one code unit to
 * one byte does (see BENCHMARKS.md).
 */
export class JsonWriter {
  #buffer: Uint8Array;
  #length = 0;
  readonly #keyValue: KeyValueParts;
  // The second of the last time written, and its date and time of day:
  // nearly every time in a batch falls in the same second as the one
  // before it, and formatting a second through a Date costs about a
  // microsecond, about as long as writing the rest of a span's document.
  #second = NaN;
  #dateAndTime = "";
  /** How what is written is laid out. */
  readonly layout: Layout;

  /** A writer that starts writing at the start of `buffer`, growing it when full. */
  constructor(layout: Layout, buffer: Uint8Array = new Uint8Array(256)) {
    this.layout = layout;
    this.#buffer = buffer;
    this.#keyValue = keyValuePartsOf(layout);
  }

  /** Appends bytes that are JSON already, such as the fixed parts of a document. */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Appends JSON text that is already escaped and laid out. */
  text(json: string): void {
    // A UTF-16 code unit never takes more than three bytes in UTF-8.
    this.#reserve(json.length * 3);
    this.#length += encoder.encodeInto(
      json,
      this.#buffer.subarray(this.#length),
    ).written;
  }

  /** Appends `value` as a JSON string, safe for a terminal. */
  string(value: string): void {
    this.#reserve(value.length + 2);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      // Printable ASCII other than the quote and the backslash is copied as
      // it is, as nearly every string here is; a string that holds anything
      // else is escaped whole by JSON.stringify instead.
      if (
        code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH ||
        code === LESS || code === GREATER || code === AMPERSAND
      ) {
        return this.text(quote(value));
      }
      buffer[at++] = code;
    }
    buffer[at++] = QUOTE;
    this.#length = at;
  }

  /** Appends a number as `JSON.stringify` writes it (`null` when not finite). */
  number(value: number): void {
    this.#ascii(Number.isFinite(value) ? String(value) : "null");
  }

  /** Appends `true` or `false`. */
  boolean(value: boolean): void {
    this.#ascii(value ? "true" : "false");
  }

  /** Appends a time as a JSON string, as {@linkcode formatTime} prints it. */
  time([seconds, nanos]: HrTime): void {
    if (seconds !== this.#second) {
      this.#second = seconds;
      this.#dateAndTime = dateAndTimeOf(seconds);
    }
    this.string(withNanos(this.#dateAndTime, nanos));
  }

  /** Appends any JSON value, laid out to sit at `depth` inside a document. */
  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        return this.number(value);
      case "boolean":
        return this.boolean(value);
    }
    // Lists and objects are rare in these documents; JSON.stringify lays
    // them out.
    if (value === null) this.#ascii("null");
    else this.text(renderAt(value, this.layout, depth));
  }

  /** Appends a whole document, built as objects, and ends its line. */
  document(document: unknown): void {
    this.text(renderAt(document, this.layout, 0));
    this.#ascii("\n");
  }

  /**
   * Appends attributes as a list of Go's `KeyValue` objects that is a field
   * of a document, each value typed by `valueOf` (`undefined` leaves the
   * attribute out). The attributes are written as they are read: a list of
   * objects built first, for a few attributes, cost more than writing them.
   * No attributes are `[]`, or `null` with `nilWhenEmpty`, as Go prints the
   * nil slice of a span, event or link that has none.
   */
  keyValues<T>(
    attributes: Readonly<Record<string, T>> | undefined,
    valueOf: (value: T) => TypedValue | undefined,
    nilWhenEmpty = false,
  ): void {
    const parts = this.#keyValue;
    let first = true;
    for (const key in attributes) {
      const typed = valueOf(attributes[key]);
      if (typed === undefined) continue;
      this.raw(first ? parts.firstItem : parts.nextItem);
      first = false;
      this.string(key);
      this.raw(parts.type);
      this.string(typed.Type);
      this.raw(parts.value);
      this.value(typed.Value, 4);
      this.raw(parts.closeItem);
    }
    if (!first) this.raw(parts.closeList);
    else this.raw(nilWhenEmpty ? parts.nullList : parts.emptyList);
  }

  /** What was written so far, in the writer's buffer: valid until it is reused. */
  written(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  // Appends `text`, which holds ASCII characters only.
  #ascii(text: string): void {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  #reserve(length: number): void {
    if (this.#length + length <= this.#buffer.length) return;
    const grown = new Uint8Array(
      Math.max(this.#buffer.length * 2, this.#length + length),
    );
    grown.set(this.written());
    this.#buffer = grown;
  }
}
