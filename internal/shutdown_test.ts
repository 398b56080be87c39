import assert from "node:assert/strict";
import { giveUpAfter, newShutdownFuncs } from "./shutdown.ts";

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

Deno.test("giveUpAfter() gives a step up after its time, and leaves a prompt one alone", async (t) => {
  await t.step("a step that never ends", async () => {
    const never = () => new Promise<void>(() => {});
    const error = await giveUpAfter(never, 20, "the tracer provider")().then(
      () => undefined,
      (e) => e,
    );
    assert.equal(
      error?.message,
      "the tracer provider did not finish within 20 ms; what it still held is lost",
    );
  });
  await t.step("a step that ends in time", async () => {
    let ran = false;
    await giveUpAfter(
      async () => {
        await Promise.resolve();
        ran = true;
      },
      1000,
      "x",
    )();
    assert.equal(ran, true);
  });
  await t.step("no time given: the step itself", () => {
    const step = () => Promise.resolve();
    assert.equal(giveUpAfter(step, undefined, "x"), step);
  });
});
