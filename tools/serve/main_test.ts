import assert from "node:assert/strict";
import { ConfigError } from "../../internal/config.ts";
import { serveCommand } from "./main.ts";

function env(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("serveCommand() passes PORT and DICE_HOST to deno serve as deno task start reads them", () => {
  const entry = new URL("../../serve.ts", import.meta.url).pathname;
  assert.deepEqual(serveCommand(env({ DENO_JOBS: "2" })), {
    args: [
      "serve",
      "-P",
      "--parallel",
      "--port",
      "8080",
      "--host",
      "[::]",
      entry,
    ],
    jobs: 2,
  });
  const { args } = serveCommand(env({ PORT: "9000", DICE_HOST: "::1" }));
  assert.deepEqual(args.slice(3, 7), ["--port", "9000", "--host", "[::1]"]);
  const v4 = serveCommand(env({ DICE_HOST: "127.0.0.1" })).args;
  assert.equal(v4[6], "127.0.0.1");
  assert.equal(
    serveCommand(env({})).jobs,
    navigator.hardwareConcurrency,
  );
});

Deno.test("serveCommand() refuses PORT=0 in several workers, and takes it in one", () => {
  assert.throws(
    () => serveCommand(env({ PORT: "0", DENO_JOBS: "2" })),
    (e) =>
      e instanceof ConfigError &&
      e.message.startsWith("PORT=0 cannot run in 2 workers"),
  );
  assert.equal(serveCommand(env({ PORT: "0", DENO_JOBS: "1" })).args[4], "0");
});
