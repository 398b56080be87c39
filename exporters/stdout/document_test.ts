import assert from "node:assert/strict";
import fc from "fast-check";
import { compareUtf8 } from "./document.ts";

// Strings of whole code points, around where UTF-16 and UTF-8 order differ.
const keyString = fc.string({
  unit: fc.oneof(
    fc.constantFrom("a", "\u00e9", "\ud7ff", "\ue000", "\uffff", "\u{10000}"),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
  ),
});

Deno.test("compareUtf8() orders strings by their UTF-8 bytes, as Go compares them (property)", () => {
  const encoder = new TextEncoder();
  const bytesOrder = (a: string, b: string) => {
    const [x, y] = [encoder.encode(a), encoder.encode(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] - y[i];
    }
    return x.length - y.length;
  };
  // "\uffff" is above every other code unit, yet below "\u{10000}".
  assert.ok(compareUtf8("\uffff", "\u{10000}") < 0);
  fc.assert(
    fc.property(
      keyString,
      keyString,
      (a, b) => {
        assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(bytesOrder(a, b)));
      },
    ),
  );
});
