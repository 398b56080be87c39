import assert from "node:assert/strict";
import { newRateLimitedWarn, serveResilient } from "./serve.ts";

const FIXTURE = new URL("./testdata/serve_fixture.ts", import.meta.url);

// The fixture's descriptor limit: Deno itself uses about 25, so some 130
// connections exhaust it, and a flood of 300 always does.
const FD_LIMIT = 160;
const FLOOD = 300;

// Long enough that the whole test falls in the first window, however slow
// the machine.
const WINDOW_MILLIS = 60_000;

interface Fixture {
  port: number;
  stderr(): string;
  status: Promise<Deno.CommandStatus>;
  exited(): boolean;
  kill(signal: Deno.Signal): void;
}

// prlimit lowers the limit of the deno it runs, as `ulimit -n` would; deno
// raises its soft limit to the hard one at startup, so both are set.
async function startFixture(hostname: string): Promise<Fixture> {
  const child = new Deno.Command("prlimit", {
    args: [
      `--nofile=${FD_LIMIT}:${FD_LIMIT}`,
      "deno",
      "run",
      "--allow-net=0.0.0.0,[::],127.0.0.1",
      FIXTURE.href,
      hostname,
      String(WINDOW_MILLIS),
    ],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const decoder = new TextDecoder();
  child.stderr.pipeTo(
    new WritableStream({
      write: (chunk) => void (stderr += decoder.decode(chunk)),
    }),
  );
  const port = await waitFor(() => /listening on port (\d+)/.exec(stderr))
    .catch(async (error) => {
      if (!exited) child.kill("SIGKILL");
      await status;
      throw new Error(`the fixture did not listen:\n${stderr}`, {
        cause: error,
      });
    });
  return {
    port: Number(port[1]),
    stderr: () => stderr,
    status,
    exited: () => exited,
    kill: (signal) => child.kill(signal),
  };
}

async function waitFor<T>(
  probe: () => T | null | undefined | Promise<T | null | undefined>,
  millis = 10_000,
): Promise<T> {
  const deadline = Date.now() + millis;
  for (;;) {
    const value = await probe();
    if (value) return value;
    assert.ok(Date.now() < deadline, "timed out");
    await delay(50);
  }
}

function delay(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}

interface Flood {
  idle: Deno.Conn[];
  slow: Deno.Conn[];
}

// Every fourth connection sends half a request head and stops, as a
// slowloris client does; the others send nothing.
async function flood(port: number): Promise<Flood> {
  const result: Flood = { idle: [], slow: [] };
  for (let i = 0; i < FLOOD; i++) {
    const conn = await connectOrRefused(port, i % 4 === 0 ? HALF_HEAD : null);
    if (conn) (i % 4 === 0 ? result.slow : result.idle).push(conn);
  }
  return result;
}

const HALF_HEAD = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: dice\r\n");

// While the service has no listener, connecting is refused, and a connection
// still queued in a listener that was just closed is reset.
async function connectOrRefused(
  port: number,
  send: Uint8Array | null,
): Promise<Deno.Conn | undefined> {
  let conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    if (send) await conn.write(send);
    return conn;
  } catch (error) {
    conn?.close();
    const { ConnectionRefused, ConnectionReset, BrokenPipe } = Deno.errors;
    for (const expected of [ConnectionRefused, ConnectionReset, BrokenPipe]) {
      if (error instanceof expected) return undefined;
    }
    throw error;
  }
}

// Whether the peer closed `conn`, waiting up to `millis` to see it.
async function closedByPeer(conn: Deno.Conn, millis = 1000): Promise<boolean> {
  const read = conn.read(new Uint8Array(64)).catch(() => null);
  return await within(read, millis) === null;
}

// `promise`'s value, or "timed out" once `millis` have passed.
async function within<T>(
  promise: Promise<T>,
  millis: number,
): Promise<T | "timed out"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), millis);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function countClosed(conns: Deno.Conn[]): Promise<number> {
  const closed = await Promise.all(conns.map((conn) => closedByPeer(conn)));
  return closed.filter(Boolean).length;
}

function closeAll({ idle, slow }: Flood): void {
  for (const conn of [...idle, ...slow]) {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function answer(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

// The lines serveResilient() wrote, without the fixture's own.
function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) =>
    line.startsWith("dice: ") && !/^dice: listening on port \d+$/.test(line)
  );
}

for (const hostname of ["0.0.0.0", "::"]) {
  Deno.test(`serveResilient() on ${hostname} survives running out of file descriptors`, async (t) => {
    const fixture = await startFixture(hostname);
    try {
      let first: Flood | undefined;
      await t.step("stays up through a flood", async () => {
        first = await flood(fixture.port);
        await delay(500);
        assert.ok(!fixture.exited(), fixture.stderr());
        assert.match(fixture.stderr(), /Too many open files/);
      });

      await t.step("closes the idle and slow connections", async () => {
        assert.ok(await countClosed(first!.idle) > 0, "no idle one closed");
        assert.ok(await countClosed(first!.slow) > 0, "no slow one closed");
      });

      await t.step(
        "answers on the same port once the flood is over",
        async () => {
          closeAll(first!);
          assert.equal(await waitFor(() => answer(fixture.port), 5000), "ok\n");
        },
      );

      await t.step(
        "survives a second flood, and answers after it",
        async () => {
          const second = await flood(fixture.port);
          await delay(500);
          assert.ok(!fixture.exited(), fixture.stderr());
          closeAll(second);
          assert.equal(await waitFor(() => answer(fixture.port), 5000), "ok\n");
        },
      );

      await t.step("exits 0 on SIGTERM", async () => {
        fixture.kill("SIGTERM");
        const status = await within(fixture.status, 5000);
        assert.ok(status !== "timed out", "still running 5 s after SIGTERM");
        assert.equal(status.code, 0, fixture.stderr());
        assert.doesNotMatch(fixture.stderr(), /Uncaught/);
      });

      await t.step(
        "says so in one line per window, then what it held back",
        () => {
          const lines = warnings(fixture.stderr());
          assert.equal(lines.length, 2, fixture.stderr());
          assert.match(
            lines[0],
            /^dice: cannot accept connections on port \d+ \(.*Too many open files/,
          );
          assert.match(lines[1], /\(and \d+ more since the last line\)$/);
        },
      );
    } finally {
      if (!fixture.exited()) fixture.kill("SIGKILL");
      await fixture.status;
    }
  });
}

Deno.test("serveResilient() serves on port 0, and shutdown() closes idle connections and resolves", async () => {
  const warned: string[] = [];
  const server = serveResilient(
    { port: 0, hostname: "0.0.0.0" },
    () => new Response("ok\n"),
    { warn: (message) => warned.push(message) },
  );
  assert.ok(server.addr.port > 0);
  assert.equal(await answer(server.addr.port), "ok\n");
  const idle = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  await server.shutdown();
  await server.finished;
  assert.ok(await closedByPeer(idle), "the idle connection is still open");
  idle.close();
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
    Deno.errors.ConnectionRefused,
  );
  assert.deepEqual(warned, []);
});

Deno.test("serveResilient() throws AddrInUse when the port is taken", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () =>
      serveResilient(
        { port: taken.addr.port, hostname: "127.0.0.1" },
        () => new Response("ok\n"),
        { warn: () => {} },
      ),
    Deno.errors.AddrInUse,
  );
});

Deno.test("newRateLimitedWarn() writes one line per window, then the latest held back with a count", () => {
  let now = 0;
  const lines: string[] = [];
  let timer: { callback: () => void; at: number } | undefined;
  const { warn, flush } = newRateLimitedWarn((line) => lines.push(line), {
    windowMillis: 10_000,
    now: () => now,
    schedule(callback, millis) {
      timer = { callback, at: now + millis };
      return () => timer = undefined;
    },
  });
  warn("first");
  now = 1000;
  warn("second");
  warn("third");
  assert.deepEqual(lines, ["first"]);
  assert.equal(timer?.at, 10_000);
  now = 10_000;
  timer.callback();
  assert.deepEqual(lines, ["first", "third (and 1 more since the last line)"]);
  now = 15_000;
  warn("fourth");
  flush();
  assert.equal(timer, undefined);
  assert.deepEqual(lines.slice(2), ["fourth"]);
  now = 25_000;
  warn("fifth");
  assert.deepEqual(lines.slice(3), ["fifth"]);
});
