import assert from "node:assert/strict";
import { RateLimitedDiagLogger } from "./diag_logger.ts";

function logger(options: { maxLinesPerWindow?: number } = {}) {
  const lines: string[] = [];
  let now = 0;
  const diag = new RateLimitedDiagLogger({
    write: (line) => lines.push(line),
    windowMillis: 1000,
    now: () => now,
    ...options,
  });
  return { diag, lines, advance: (millis: number) => now += millis };
}

Deno.test("RateLimitedDiagLogger prints a repeated message once per window", () => {
  const { diag, lines, advance } = logger();
  for (let i = 0; i < 5; i++) diag.error("export failed");
  assert.deepEqual(lines, ["otel error: export failed"]);
  advance(1000);
  diag.error("export failed");
  assert.deepEqual(lines.slice(1), [
    "otel error: export failed (repeated 4 times since)",
  ]);
});

Deno.test("RateLimitedDiagLogger.flush() reports what it held back", () => {
  const { diag, lines } = logger();
  diag.warn("slow");
  diag.warn("slow");
  diag.flush();
  diag.flush();
  assert.deepEqual(lines, [
    "otel warning: slow",
    "otel warning: slow (repeated once since)",
  ]);
});

Deno.test("RateLimitedDiagLogger prints at most so many lines per window", () => {
  const { diag, lines, advance } = logger({ maxLinesPerWindow: 3 });
  for (let i = 0; i < 10; i++) diag.error(`dropped ${i} spans`);
  assert.equal(lines.length, 3);
  advance(1000);
  diag.error("dropped again");
  assert.equal(
    lines[3],
    "otel error: dropped again (7 other diagnostics were not printed)",
  );
  for (let i = 0; i < 5; i++) diag.error(`late ${i}`);
  diag.flush();
  assert.equal(lines.at(-1), "otel: 3 more diagnostics were not printed");
});

Deno.test("RateLimitedDiagLogger keeps each report on one line", () => {
  const { diag, lines } = logger();
  diag.error("failed:", new TypeError("bad\nthing\x1b[31m"), { code: 7 });
  assert.deepEqual(lines, [
    "otel error: failed: TypeError: bad thing?[31m { code: 7 }",
  ]);
});
