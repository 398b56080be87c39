import assert from "node:assert/strict";
import fc from "fast-check";
import { assertBytesOf, awkwardString, FORMATS } from "./_test_utils.ts";
import {
  closeDocument,
  closeObject,
  type ConsoleFormat,
  fieldKeys,
  formatTime,
  JsonWriter,
  type KeyValue,
  layoutOf,
  render,
  type TypedValue,
} from "./json_writer.ts";

Deno.test("render() escapes what JSON.stringify leaves raw", () => {
  assert.equal(
    render({ s: "\u007f\u0085\u2028" }, "compact"),
    '{"s":"\\u007f\\u0085\\u2028"}\n',
  );
  assert.equal(render({ a: 1 }, "pretty"), '{\n\t"a": 1\n}\n');
});

Deno.test("formatTime() prints UTC as Go's RFC3339Nano: no trailing zeros, no fraction on a whole second", () => {
  assert.equal(formatTime([0, 5]), "1970-01-01T00:00:00.000000005Z");
  assert.equal(
    formatTime([1700000000, 999999999]),
    "2023-11-14T22:13:20.999999999Z",
  );
  assert.equal(
    formatTime([1700000031, 96_000_000]),
    "2023-11-14T22:13:51.096Z",
  );
  assert.equal(formatTime([1700000031, 100]), "2023-11-14T22:13:51.0000001Z");
  assert.equal(formatTime([1700000031, 120_000]), "2023-11-14T22:13:51.00012Z");
  assert.equal(formatTime([1700000031, 0]), "2023-11-14T22:13:51Z");
  assert.equal(formatTime([0, 0]), "1970-01-01T00:00:00Z");
});

Deno.test("formatTime() prints as Go's RFC3339Nano any time (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4102444800 }),
      fc.integer({ min: 0, max: 999_999_999 }),
      (seconds, nanos) => {
        const printed = formatTime([seconds, nanos]);
        const fraction = nanos
          ? "." + String(nanos).padStart(9, "0").replace(/0+$/, "")
          : "";
        const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
        assert.equal(printed, `${whole}${fraction}Z`);
      },
    ),
  );
});

Deno.test("render() keeps any string intact and any control character escaped (property)", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary" }),
      fc.constantFrom<ConsoleFormat>("pretty", "compact"),
      (value, format) => {
        const text = render({ Body: { Type: "String", Value: value } }, format);
        assert.equal(JSON.parse(text).Body.Value, value);
        const layout = format === "pretty" ? /[\n\t]/g : /\n$/;
        for (const char of text.replace(layout, "")) {
          const code = char.charCodeAt(0);
          assert.ok(
            code >= 0x20 && (code < 0x7f || code > 0x9f) && code !== 0x2028 &&
              code !== 0x2029,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

// Writes a document of one field, `Field`, whose value `write` writes.
function oneField(
  format: ConsoleFormat,
  write: (out: JsonWriter) => void,
): Uint8Array {
  const layout = layoutOf(format);
  // A buffer of one byte: every write grows it.
  const out = new JsonWriter(layout, new Uint8Array(1));
  out.raw(fieldKeys(layout, 1, ["Field"]).Field);
  write(out);
  out.raw(closeDocument(layout));
  return out.written();
}

const anyJson = fc.oneof(
  awkwardString,
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(awkwardString, fc.double()), { maxLength: 3 }),
  fc.dictionary(awkwardString, awkwardString, { maxKeys: 2 }),
);

Deno.test("JsonWriter.string() and value() write any value as render() does (property)", () => {
  fc.assert(
    fc.property(anyJson, fc.constantFrom(...FORMATS), (value, format) => {
      const written = oneField(format, (out) => out.value(value, 1));
      assertBytesOf(written, render({ Field: value }, format));
      if (typeof value !== "string") return;
      const string = oneField(format, (out) => out.string(value));
      assertBytesOf(string, render({ Field: value }, format));
    }),
    { numRuns: 400 },
  );
});

Deno.test("JsonWriter.number() writes what JSON can hold, as JSON.stringify does", () => {
  for (const value of [0, -0, 1.5, -2, 1e21, 5e-7, NaN, Infinity, -Infinity]) {
    const written = oneField("compact", (out) => out.number(value));
    assertBytesOf(written, render({ Field: value }, "compact"));
  }
});

Deno.test("JsonWriter.keyValues() writes Go's KeyValue list as render() lays it out (property)", () => {
  // Any type name; an undefined value leaves the attribute out.
  const typed = (value: unknown): TypedValue | undefined =>
    value === undefined ? undefined : { Type: typeof value, Value: value };
  fc.assert(
    fc.property(
      fc.dictionary(awkwardString, fc.option(anyJson, { nil: undefined })),
      fc.constantFrom(...FORMATS),
      (attributes, format) => {
        const list: KeyValue[] = Object.entries(attributes)
          .filter(([, value]) => value !== undefined)
          .map(([key, value]) => ({ Key: key, Value: typed(value)! }));
        const written = oneField(
          format,
          (out) => out.keyValues(attributes, typed),
        );
        assertBytesOf(written, render({ Field: list }, format));
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("fieldKeys(), closeObject() and closeDocument() lay an object out as render() does", () => {
  for (const format of FORMATS) {
    const layout = layoutOf(format);
    const outer = fieldKeys(layout, 1, ["A", "B"]);
    const inner = fieldKeys(layout, 2, ["C", "D"]);
    const out = new JsonWriter(layout);
    out.raw(outer.A);
    out.time([1700000000, 5]);
    out.raw(outer.B);
    out.raw(inner.C);
    out.boolean(true);
    out.raw(inner.D);
    out.value([1, "x"], 2);
    out.raw(closeObject(layout, 2));
    out.raw(closeDocument(layout));
    const document = {
      A: "2023-11-14T22:13:20.000000005Z",
      B: { C: true, D: [1, "x"] },
    };
    assertBytesOf(out.written(), render(document, format));
  }
});

Deno.test("JsonWriter.document() writes a whole document as render() does", () => {
  for (const format of FORMATS) {
    const document = { A: [{ B: null }], C: "\u009b" };
    const out = new JsonWriter(layoutOf(format));
    out.document(document);
    out.document(document);
    assertBytesOf(out.written(), render(document, format).repeat(2));
  }
});

Deno.test("render() escapes the bidirectional controls that reorder a terminal's line", () => {
  const bidi =
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
  for (const format of ["pretty", "compact"] as const) {
    const text = render({ Body: `Mallory${bidi}` }, format);
    assert.equal(
      /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(text),
      false,
    );
    assert.equal(JSON.parse(text).Body, `Mallory${bidi}`);
  }
});
