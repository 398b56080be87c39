import assert from "node:assert/strict";
import { listen } from "./listener.ts";

const ok = () => new Response("ok");

Deno.test("listen() binds both address families when no host is named", async () => {
  const lines: string[] = [];
  const listener = listen({ port: 0 }, (line) => lines.push(line));
  assert.ok(listener);
  try {
    listener.serve(ok);
    const { port } = listener.addr;
    for (const host of ["127.0.0.1", "[::1]"]) {
      assert.equal(await (await fetch(`http://${host}:${port}/`)).text(), "ok");
    }
    assert.deepEqual(lines, [
      `listening on http://[::]:${port}/ (try http://localhost:${port}/rolldice/Alice)`,
    ]);
  } finally {
    await listener.close();
  }
});

Deno.test("listen() binds the one address DICE_HOST names, and says it", async (t) => {
  for (
    const [hostname, answers, refuses] of [
      ["127.0.0.1", "127.0.0.1", "[::1]"],
      ["::1", "[::1]", "127.0.0.1"],
    ]
  ) {
    await t.step(hostname, async () => {
      const lines: string[] = [];
      const listener = listen({ port: 0, hostname }, (l) => lines.push(l));
      assert.ok(listener, lines.join("\n"));
      try {
        listener.serve(ok);
        const { port } = listener.addr;
        const response = await fetch(`http://${answers}:${port}/`);
        assert.equal(await response.text(), "ok");
        await assert.rejects(fetch(`http://${refuses}:${port}/`), TypeError);
        // The address bound, not the name asked for.
        assert.deepEqual(lines, [
          `listening on http://${answers}:${port}/ ` +
          `(try http://${answers}:${port}/rolldice/Alice)`,
        ]);
      } finally {
        await listener.close();
      }
    });
  }
});

Deno.test("listen() on a host name says the address it resolved to", async () => {
  const lines: string[] = [];
  const listener = listen(
    { port: 0, hostname: "localhost" },
    (line) => lines.push(line),
  );
  assert.ok(listener, lines.join("\n"));
  try {
    listener.serve(ok);
    const { hostname, port } = listener.addr;
    // Whichever loopback address localhost resolves to first here.
    assert.match(hostname, /^(127\.0\.0\.1|::1)$/);
    const host = hostname === "::1" ? "[::1]" : hostname;
    assert.deepEqual(lines, [
      `listening on http://${host}:${port}/ ` +
      `(try http://${host}:${port}/rolldice/Alice)`,
    ]);
  } finally {
    await listener.close();
  }
});

Deno.test("listen() says in one line why it cannot listen on DICE_HOST", async (t) => {
  await t.step("outside the permissions: the flag", () => {
    const lines: string[] = [];
    const listener = listen(
      { port: 0, hostname: "192.0.2.1" },
      (line) => lines.push(line),
    );
    assert.equal(listener, undefined);
    assert.deepEqual(lines, [
      "DICE_HOST 192.0.2.1 is not in dice's network permissions; run " +
      "deno run -P --allow-net=192.0.2.1 main.ts, or add " +
      '"192.0.2.1" to permissions.default.net in deno.json',
    ]);
  });
  await t.step("a port in use on that address", () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = taken.addr;
    const lines: string[] = [];
    const listener = listen(
      { port, hostname: "127.0.0.1" },
      (line) => lines.push(line),
    );
    assert.equal(listener, undefined);
    assert.deepEqual(lines, [
      `port ${port} is already in use on 127.0.0.1; set PORT to a free port`,
    ]);
  });
});
