import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_PATH_LENGTH, type PathValues, ServeMux } from "./mux.ts";

function recordingMux(): { mux: ServeMux; calls: Array<[string, PathValues]> } {
  const mux = new ServeMux();
  const calls: Array<[string, PathValues]> = [];
  for (const pattern of ["/rolldice", "/rolldice/", "/rolldice/{player}"]) {
    mux.handle(pattern, (_request, pathValues) => {
      calls.push([pattern, pathValues]);
      return new Response("ok");
    });
  }
  return { mux, calls };
}

async function get(mux: ServeMux, path: string, method = "GET") {
  const response = await mux.serve(
    new Request(`http://localhost${path}`, { method }),
  );
  return { status: response.status, body: await response.text() };
}

Deno.test("ServeMux.serve() matches whole paths to patterns", async (t) => {
  const cases: Array<[string, string, PathValues]> = [
    ["/rolldice", "/rolldice", {}],
    ["/rolldice/", "/rolldice/", {}],
    ["/rolldice/Alice", "/rolldice/{player}", { player: "Alice" }],
    ["/rolldice/Alice?x=1", "/rolldice/{player}", { player: "Alice" }],
    ["/rolldice/J%C3%BCrgen%20M", "/rolldice/{player}", { player: "Jürgen M" }],
    ["/rolldice/a%2Fb", "/rolldice/{player}", { player: "a/b" }],
    ["/rolldice/%0A%1B%5B31m", "/rolldice/{player}", { player: "\n\x1b[31m" }],
    // The URL parser removes dot segments, encoded or not, before routing.
    ["/rolldice/.", "/rolldice/", {}],
    ["/rolldice/%2E", "/rolldice/", {}],
    ["/rolldice/..a", "/rolldice/{player}", { player: "..a" }],
  ];
  for (const [path, pattern, pathValues] of cases) {
    await t.step(`${path} -> ${pattern}`, async () => {
      const { mux, calls } = recordingMux();
      assert.deepEqual(await get(mux, path), { status: 200, body: "ok" });
      assert.deepEqual(calls, [[pattern, pathValues]]);
    });
  }
});

Deno.test("ServeMux.serve() answers 404 when no pattern matches", async (t) => {
  for (
    const path of [
      "/",
      "/rolldic",
      "/rolldice//",
      "/rolldice/a/b",
      "/rolldice/a/",
      "/ROLLDICE",
    ]
  ) {
    await t.step(path, async () => {
      const { mux, calls } = recordingMux();
      assert.deepEqual(await get(mux, path), {
        status: 404,
        body: "404 page not found\n",
      });
      assert.deepEqual(calls, []);
    });
  }
});

Deno.test("ServeMux.serve() answers 400 for malformed percent-encoding", async () => {
  const { mux, calls } = recordingMux();
  const { status, body } = await get(mux, "/rolldice/%E0%A4%A");
  assert.equal(status, 400);
  assert.match(body, /percent-encoding/);
  assert.deepEqual(calls, []);
});

Deno.test("ServeMux.serve() answers 400 for a malformed Host, never another route", async (t) => {
  const mux = new ServeMux();
  let served = 0;
  mux.handle("/rolldice/{player}", () => {
    served++;
    return new Response("ok\n");
  });
  for (
    const host of ["a b", "x:99999", "x:notaport", "%zz", "h/rolldice", "u@h"]
  ) {
    await t.step(JSON.stringify(host), async () => {
      // What Deno.serve hands over: a URL built from the Host header, which
      // `new Request()` would refuse to build.
      const request = {
        url: `http://${host}/rolldice/Alice`,
        method: "GET",
        headers: new Headers({ host }),
      } as Request;
      const response = await mux.serve(request);
      assert.equal(response.status, 400);
      assert.equal(
        await response.text(),
        "400 bad request: malformed Host header\n",
      );
    });
  }
  assert.equal(served, 0);
  const valid = new Request("http://[::1]:8080/rolldice/Alice");
  assert.equal((await mux.serve(valid)).status, 200);
});

Deno.test("ServeMux.serve() routes every method, as patterns without a method do", async () => {
  for (const method of ["GET", "POST", "DELETE", "BREW"]) {
    const { mux, calls } = recordingMux();
    assert.equal((await get(mux, "/rolldice/Bob", method)).status, 200, method);
    assert.equal(calls.length, 1);
  }
});

Deno.test("ServeMux.handle() rejects what is not a path pattern", () => {
  const mux = new ServeMux();
  for (const pattern of ["rolldice", "/a/{b", "/a/*", "/{a}{b}", ""]) {
    assert.throws(
      () => mux.handle(pattern, () => new Response()),
      TypeError,
      pattern,
    );
  }
});

Deno.test("ServeMux.serve() answers 414 for a path over MAX_PATH_LENGTH", async () => {
  const { mux, calls } = recordingMux();
  const prefix = "/rolldice/";
  const longest = prefix + "a".repeat(MAX_PATH_LENGTH - prefix.length);
  assert.equal((await get(mux, longest)).status, 200);
  assert.deepEqual(await get(mux, longest + "a"), {
    status: 414,
    body: "414 URI too long\n",
  });
  assert.equal(calls.length, 1);
});

Deno.test("ServeMux.serve() gives any player name back, decoded (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 })
        // "." and ".." are dot segments: the URL parser removes them, even
        // percent-encoded, so no request can carry them as a player name.
        .filter((player) => player !== "." && player !== ".."),
      async (player) => {
        const { mux, calls } = recordingMux();
        const { status } = await get(
          mux,
          `/rolldice/${encodeURIComponent(player)}`,
        );
        assert.equal(status, 200);
        assert.deepEqual(calls, [["/rolldice/{player}", { player }]]);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("ServeMux.serve() answers any path with a status it documents (property)", async () => {
  const segment = fc.string({
    unit: fc.constantFrom(
      "a",
      "/",
      "%",
      "2",
      "F",
      ".",
      "{",
      " ",
      "é",
      "?",
      "#",
    ),
  });
  await fc.assert(
    fc.asyncProperty(segment, async (tail) => {
      const { mux } = recordingMux();
      const { status } = await get(
        mux,
        `/rolldice${tail.startsWith("/") ? "" : "/"}${tail}`,
      );
      assert.ok([200, 400, 404, 414].includes(status), `${status} for ${tail}`);
    }),
    { numRuns: 300 },
  );
});
