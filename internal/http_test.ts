import assert from "node:assert/strict";
import { countResponseBody } from "../otelhttp/body_size.ts";
import { hasValidHost, HTTP_TOKEN, textResponse } from "./http.ts";

Deno.test("textResponse() tells the HTTP instrumentation its body's size in bytes, so that nobody must read it to know", async () => {
  for (const text of ["4\n", "404 page not found\n", "Ölwürfel 🎲\n", ""]) {
    const response = textResponse(text, 404);
    let told: number | undefined;
    countResponseBody(response, (bytes) => told = bytes);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(told, bytes.length, JSON.stringify(text));
    assert.equal(response.status, 404);
    assert.equal(
      response.headers.get("content-type"),
      "text/plain; charset=utf-8",
    );
  }
});

Deno.test("hasValidHost() takes a host and port as RFC 3986 spells them", () => {
  const host = (value?: string) =>
    hasValidHost({
      headers: new Headers(value === undefined ? {} : { host: value }),
    } as Request);
  for (
    const valid of [undefined, "localhost:8080", "[::1]:8080", "dice.test"]
  ) {
    assert.equal(host(valid), true, valid);
  }
  for (const invalid of ["a b", "h/rolldice", "u@h", "x:notaport", "[zz]"]) {
    assert.equal(host(invalid), false, invalid);
  }
});

Deno.test("HTTP_TOKEN matches RFC 9110's tokens only", () => {
  assert.ok(HTTP_TOKEN.test("x-api-key"));
  assert.ok(HTTP_TOKEN.test("!#$%&'*+-.^_`|~09AZaz"));
  for (const bad of ["", "a b", "a:b", "a\u00e9", "(x)"]) {
    assert.ok(!HTTP_TOKEN.test(bad), bad);
  }
});
