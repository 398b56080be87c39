import assert from "node:assert/strict";
import { newShutdownFuncs } from "./shutdown.ts";

Deno.test("newShutdownFuncs()", async (t) => {
  await t.step(
    "runs added steps together, then deferred ones last in first out",
    async () => {
      const order: string[] = [];
      const funcs = newShutdownFuncs();
      const slow = Promise.withResolvers<void>();
      funcs.defer(() => order.push("deferred first"));
      funcs.add(async () => {
        await slow.promise;
        order.push("slow");
      });
      funcs.add(() => {
        order.push("fast");
        slow.resolve();
      });
      funcs.defer(() => order.push("deferred second"));
      await funcs.shutdown();
      assert.deepEqual(order, [
        "fast",
        "slow",
        "deferred second",
        "deferred first",
      ]);
    },
  );

  await t.step(
    "runs each step once and returns the first result again",
    async () => {
      let runs = 0;
      const funcs = newShutdownFuncs();
      funcs.add(() => runs++);
      const first = funcs.shutdown();
      assert.equal(funcs.shutdown(), first);
      await first;
      await funcs.shutdown();
      assert.equal(runs, 1);
    },
  );

  await t.step(
    "reports every error together and still runs every step",
    async () => {
      let deferredRan = false;
      const funcs = newShutdownFuncs();
      funcs.add(() => Promise.reject(new Error("tracer provider")));
      funcs.add(() => {
        throw new Error("logger provider");
      });
      funcs.defer(() => deferredRan = true);
      funcs.defer(() => Promise.reject(new Error("meter provider")));
      const error = await funcs.shutdown().then(() => undefined, (e) => e);
      assert.ok(error instanceof AggregateError);
      assert.equal(error.errors.length, 3);
      assert.equal(
        error.message,
        "OpenTelemetry shutdown failed: tracer provider; logger provider; meter provider",
      );
      assert.equal(deferredRan, true);
    },
  );
});
