import assert from "node:assert/strict";
import { ConfigError } from "./config.ts";
import { electWorker, workerCount } from "./workers.ts";

Deno.test("workerCount() reads DENO_JOBS as deno serve does, or counts the CPUs", () => {
  assert.equal(workerCount(() => undefined), navigator.hardwareConcurrency);
  assert.equal(workerCount(() => " 3 "), 3);
  for (const bad of ["0", "two", "-1", "1.5", "99999"]) {
    assert.throws(
      () => workerCount(() => bad),
      (e) => e instanceof ConfigError && /^DENO_JOBS must be/.test(e.message),
      bad,
    );
  }
});

Deno.test("electWorker() numbers the workers 1 to N, each once", async () => {
  const channel = `test-${crypto.randomUUID()}`;
  const numbers = await Promise.all(
    [0, 1, 2].map(() => electWorker(3, { channel })),
  );
  assert.deepEqual(numbers.sort(), [1, 2, 3]);
  assert.equal(await electWorker(1), 1);
});

Deno.test("electWorker() says so when the others never answer", async () => {
  await assert.rejects(
    electWorker(2, { channel: `test-${crypto.randomUUID()}`, waitMillis: 50 }),
    /the workers did not find each other within 50 ms \(1 of 2\)/,
  );
});
