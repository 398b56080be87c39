import assert from "node:assert/strict";
import { OtlpExportError } from "./transport.ts";
import { CollectorWatch, REPEAT_WINDOW_MILLIS, sayWaiting } from "./watch.ts";

function fixture() {
  const lines: string[] = [];
  let clock = 0;
  const watch = new CollectorWatch({
    signal: "traces",
    url: "http://user:secret@127.0.0.1:4318/v1/traces",
    timeoutMillis: 3000,
    warn: (line) => lines.push(line),
    now: () => clock,
  });
  return { lines, watch, tick: (ms: number) => clock += ms };
}

const URL = "http://…@127.0.0.1:4318/v1/traces";

Deno.test("CollectorWatch says the first failure at once, then at most once per window while it lasts", () => {
  const { lines, watch, tick } = fixture();
  const refused = new OtlpExportError("connection refused");
  watch.attemptFailed(refused);
  watch.attemptFailed(refused);
  watch.attemptFailed(refused);
  assert.deepEqual(lines, [
    `cannot export traces to ${URL}: connection refused; each export is ` +
    "retried for at most 3000 ms, and what is lost is counted",
  ]);
  tick(REPEAT_WINDOW_MILLIS);
  watch.attemptFailed(refused);
  assert.equal(
    lines.at(-1),
    `still cannot export traces to ${URL}: connection refused ` +
      "(2 more failed attempts since the last line)",
  );
  assert.equal(watch.trouble, "connection refused");
  watch.delivered();
  watch.delivered();
  assert.equal(lines.at(-1), `exports of traces reach ${URL} again`);
  assert.equal(watch.trouble, undefined);
  // A new run of failures is said at once again, whatever the window.
  watch.attemptFailed(new OtlpExportError("HTTP 503 Service Unavailable"));
  assert.match(lines.at(-1)!, /^cannot export traces to .*: HTTP 503/);
  assert.equal(lines.length, 4);
});

Deno.test("sayWaiting() names what the shutdown waits on, once, and nothing when all is well", () => {
  const { watch } = fixture();
  const lines: string[] = [];
  const cancel = sayWaiting([watch], () => 3500, (line) => lines.push(line));
  cancel();
  assert.equal(lines.length, 0, "nothing under way, nothing in trouble");
  watch.busy = () => 2;
  sayWaiting([watch], () => 3500, (line) => lines.push(line))();
  assert.deepEqual(lines, [
    "shutdown waits at most 3500 ms for the OTLP collector (traces: 2 " +
    "exports under way); Ctrl+C again skips the wait, and what it still " +
    "holds is counted lost",
  ]);
});
