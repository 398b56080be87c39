import assert from "node:assert/strict";
import { DUPLICATE_SIGNAL_WINDOW_MS, newSignalClassifier } from "./signals.ts";

Deno.test("newSignalClassifier() tells a second Ctrl+C from one delivered twice", () => {
  let now = 1000;
  const classify = newSignalClassifier(DUPLICATE_SIGNAL_WINDOW_MS, () => now);
  assert.equal(classify(), "shutdown");
  now += 3; // deno task forwards the terminal's SIGINT a moment later
  assert.equal(classify(), "duplicate");
  now += DUPLICATE_SIGNAL_WINDOW_MS - 4;
  assert.equal(classify(), "duplicate");
  now += 1; // a person pressing Ctrl+C again
  assert.equal(classify(), "exit");
  assert.equal(classify(), "exit");
});
