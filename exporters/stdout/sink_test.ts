import assert from "node:assert/strict";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  MAX_UNWRITTEN_BYTES,
  StdoutMetricExporter,
  stdoutSink,
} from "./mod.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("stdoutSink() says once that stdout is gone, then drops and counts", async () => {
  const warnings: string[] = [];
  const written: string[] = [];
  let broken = false;
  const sink = stdoutSink({
    output: {
      write(bytes) {
        if (broken) {
          return Promise.reject(
            new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
          );
        }
        // Accept a part only, as a full pipe does: the sink writes the rest.
        const accepted = Math.min(bytes.length, 3);
        written.push(new TextDecoder().decode(bytes.subarray(0, accepted)));
        return Promise.resolve(accepted);
      },
    },
    warn: (message) => warnings.push(message),
  });
  await sink.write(encode('{"a":1}\n'), 1);
  assert.equal(written.join(""), '{"a":1}\n');
  broken = true;
  await sink.write(encode("{}\n{}\n"), 2);
  await sink.write(encode("{}\n"), 1);
  assert.equal(sink.dropped, 3);
  assert.deepEqual(warnings, [
    "stdout does not accept telemetry any more (BrokenPipe: Broken pipe (os error 32)); console telemetry is dropped from now on, and counted",
  ]);
});

Deno.test("stdoutSink() writes the exports that wait for a write together, in order", async () => {
  const writes: string[] = [];
  const sink = stdoutSink({
    output: {
      async write(bytes) {
        writes.push(new TextDecoder().decode(bytes));
        await new Promise((resolve) => setTimeout(resolve, 5));
        return bytes.length;
      },
    },
  });
  await Promise.all([
    sink.write(encode("a\n"), 1),
    sink.write(encode("b\n"), 1),
    sink.write(encode("c\n"), 1),
  ]);
  assert.deepEqual(writes, ["a\n", "b\nc\n"]);
});

Deno.test("stdoutSink() shared by exporters holds at most MAX_UNWRITTEN_BYTES and one batch per exporter", async () => {
  // An output that takes nothing until it is told to.
  const pending: Array<() => void> = [];
  const sink = stdoutSink({
    output: {
      write: (bytes) =>
        new Promise((resolve) => pending.push(() => resolve(bytes.length))),
    },
  });
  const exporters = [
    new StdoutMetricExporter({ sink, format: "compact" }),
    new StdoutMetricExporter({ sink, format: "compact" }),
  ];
  // Each document holds a resource of 1 MiB: twenty are more than the bound.
  const big = resourceFromAttributes({ big: "x".repeat(1024 * 1024) });
  const exports = 20;
  const bound = MAX_UNWRITTEN_BYTES + 2 * (1024 * 1024 + 1024);
  let reported = 0;
  for (let i = 0; i < exports; i++) {
    exporters[i % 2].export(
      { resource: big, scopeMetrics: [] },
      () => reported++,
    );
  }
  // A metric export is reported once written: the ledger counts it so.
  assert.equal(reported, 0);
  assert.ok(sink.unwritten > MAX_UNWRITTEN_BYTES - 1024 * 1024);
  while (reported < exports) {
    assert.ok(sink.unwritten <= bound, `${sink.unwritten} bytes wait`);
    pending.splice(0).forEach((write) => write());
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(exporters.map((exporter) => exporter.forceFlush()));
  assert.equal(sink.unwritten, 0);
});

Deno.test("stdoutSink() once stopped finishes the document under way and starts no other", async () => {
  const written: string[] = [];
  const sink = stdoutSink({
    output: {
      write(bytes) {
        // Five bytes at a time, as a slow pipe takes them.
        const taken = Math.min(bytes.length, 5);
        written.push(new TextDecoder().decode(bytes.subarray(0, taken)));
        if (written.length === 2) sink.stop();
        return Promise.resolve(taken);
      },
    },
  });
  const documents = encode('{"a":"0123456789"}\n{"b":1}\n');
  const [first, second] = await Promise.all([
    sink.write(documents, 2),
    sink.write(encode('{"c":2}\n'), 1),
  ]);
  assert.equal(written.join(""), '{"a":"0123456789"}\n');
  assert.deepEqual([first, second], [1, 0]);
  assert.equal(sink.dropped, 2);
});

Deno.test("stdoutSink() ends every write where a document ends, so that processes sharing stdout never interleave", async () => {
  const writes: Uint8Array[] = [];
  const sink = stdoutSink({
    output: {
      write(bytes) {
        writes.push(bytes.slice());
        return Promise.resolve(bytes.length);
      },
    },
  });
  // Documents of 3,000 bytes: the first writes (4 KiB at most, until the
  // sink has measured stdout's pace) would cut the second in two.
  const document = `{\n\t"x": "${"y".repeat(2987)}"\n}\n`;
  assert.equal(document.length, 3000);
  await sink.write(encode(document.repeat(8)), 8);
  assert.ok(writes.length > 1, "written in more than one write");
  for (const bytes of writes) {
    const text = new TextDecoder().decode(bytes);
    assert.equal(text.length % document.length, 0, "whole documents only");
    assert.equal(text, document.repeat(text.length / document.length));
  }
});

Deno.test("stdoutSink() keeps its writes large on a busy service, whose writes end late but well within the target", async () => {
  const sizes: number[] = [];
  const sink = stdoutSink({
    output: {
      async write(bytes) {
        sizes.push(bytes.length);
        // Every write ends 10 ms late, whatever its size: the event loop's
        // own delay on a loaded service, not a slow reader.
        await new Promise((resolve) => setTimeout(resolve, 10));
        return bytes.length;
      },
    },
  });
  const batch = (documents: number) =>
    encode(`{"x":"${"y".repeat(1000)}"}\n`.repeat(documents));
  for (let i = 0; i < 12; i++) await sink.write(batch(100), 100); // grows
  await sink.write(batch(1), 1); // a small batch, late as every write
  sizes.length = 0;
  await sink.write(batch(1000), 1000); // about 1 MB
  assert.equal(sizes.length, 1, `written in ${sizes.length} writes`);
});
