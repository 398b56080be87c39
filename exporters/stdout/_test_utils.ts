/**
 * Fixtures that the tests of the stdout exporters share: a resource, a
 * string as hostile as a client can send, and sinks that keep what they are
 * given.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ExportResult } from "@opentelemetry/core";
import { type ConsoleFormat, render, type TextSink } from "./mod.ts";

/** Both console formats, for tests that hold for each. */
export const FORMATS: readonly ConsoleFormat[] = ["pretty", "compact"];

/** A resource with two attributes, out of order. */
export const resource = resourceFromAttributes({
  "service.name": "dice",
  "a.first": 1,
});

/** Everything a hostile player name could throw at a terminal or a JSON parser. */
export const HOSTILE =
  'Mallory\x1b[2J\x1b]0;pwned\x07\r\n\t"\\\u0000\u007f\u009b31m\u2028\ud800';

/** A sink that keeps the text it is given. */
export function memorySink(): TextSink & { text: string } {
  return {
    text: "",
    unwritten: 0,
    write(bytes) {
      this.text += new TextDecoder().decode(bytes);
      return Promise.resolve();
    },
  };
}

/** A sink that keeps a copy of the bytes of each export. */
export function bytesSink(): TextSink & { exports: Uint8Array[] } {
  return {
    exports: [],
    unwritten: 0,
    write(bytes) {
      // The exporter reuses its buffer once the write settles.
      this.exports.push(bytes.slice());
      return Promise.resolve();
    },
  };
}

/**
 * Strings with more than printable ASCII: controls, DEL, C1 controls, line
 * separators, lone surrogates, and characters of two, three and four bytes.
 */
export const awkwardString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }),
    fc.constantFrom("\u007f", "\u009b", "\u2028", "\ud800", "\udfff", "é"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  ),
});

/** Any time from 1970 to 2100, as an HrTime. */
export const anyTime: fc.Arbitrary<[number, number]> = fc.tuple(
  fc.integer({ min: 0, max: 4102444800 }),
  fc.integer({ min: 0, max: 999_999_999 }),
);

/** Asserts that `bytes` are `text` in UTF-8, showing the text when not. */
export function assertBytesOf(bytes: Uint8Array, text: string): void {
  assert.equal(new TextDecoder().decode(bytes), text);
  assert.deepEqual(bytes, new TextEncoder().encode(text));
}

/** What {@linkcode assertWritesAsDocuments} needs of an exporter. */
interface ItemExporter<T> {
  export(items: T[], resultCallback: (result: ExportResult) => void): void;
}

/**
 * Asserts over arbitrary `items` that an exporter of each format writes
 * each item byte for byte as `render(document(item), format)` does: the
 * fast writer against the readable specification.
 */
export function assertWritesAsDocuments<T>(
  items: fc.Arbitrary<T>,
  newExporter: (
    options: { sink: TextSink; format: ConsoleFormat },
  ) => ItemExporter<T>,
  document: (item: T) => unknown,
): void {
  const exporters = Object.fromEntries(FORMATS.map((format) => {
    const sink = bytesSink();
    return [format, { sink, exporter: newExporter({ sink, format }) }];
  }));
  fc.assert(
    fc.property(items, fc.constantFrom(...FORMATS), (item, format) => {
      const { sink, exporter } = exporters[format];
      // The sink takes the export's bytes before export() returns.
      exporter.export([item], () => {});
      assertBytesOf(sink.exports.pop()!, render(document(item), format));
    }),
    { numRuns: 400 },
  );
}
