import assert from "node:assert/strict";
import { ConfigError } from "./env.ts";
import { bracketed, listenDenied, parseHost } from "./host.ts";

Deno.test("parseHost() takes IP addresses and host names, IPv6 without brackets", () => {
  assert.equal(parseHost("X", "127.0.0.1"), "127.0.0.1");
  assert.equal(parseHost("X", "[::1]"), "::1");
  assert.equal(parseHost("X", "::FFFF:7f00:1"), "::ffff:7f00:1");
  assert.equal(parseHost("X", "Example.COM"), "example.com");
  assert.throws(
    () => parseHost("X", "[localhost]"),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        "X must be an IP address or a host name, such as 127.0.0.1, ::1 " +
          'or localhost, got "[localhost]"',
  );
});

Deno.test("bracketed() puts IPv6 addresses in brackets only", () => {
  assert.equal(bracketed("::1"), "[::1]");
  assert.equal(bracketed("127.0.0.1"), "127.0.0.1");
  assert.equal(bracketed("localhost"), "localhost");
});

Deno.test("listenDenied() names the flag for an address the permissions forbid", () => {
  // The test permission set allows loopback, not documentation addresses.
  assert.equal(listenDenied("DICE_HOST", "127.0.0.1", 8080), undefined);
  assert.equal(listenDenied("DICE_HOST", "::1", 0), undefined);
  assert.equal(
    listenDenied("DICE_HOST", "2001:db8::1", 8080),
    "DICE_HOST 2001:db8::1 is not in dice's network permissions; run " +
      "deno run -P --allow-net=[2001:db8::1] main.ts, or add " +
      '"[2001:db8::1]" to permissions.default.net in deno.json',
  );
});
