import assert from "node:assert/strict";
import {
  codeBlocks,
  headingAnchors,
  mismatch,
  relativeLinks,
} from "./check.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("codeBlocks() reads fences, info strings and the marker before them", () => {
  const blocks = codeBlocks(
    "Text\n\n<!-- file: a.ts -->\n\n```ts\nconst a = 1;\n```\n\n" +
      "<!-- excerpt: b.ts -->\n```ts ignore\nb();\n// …\nc();\n```\n" +
      "```text\nplain\n```\n",
  );
  assert.deepEqual(blocks, [
    {
      info: "ts",
      code: "const a = 1;",
      line: 5,
      shows: { kind: "file", path: "a.ts" },
    },
    {
      info: "ts ignore",
      code: "b();\n// …\nc();",
      line: 10,
      shows: { kind: "excerpt", path: "b.ts" },
    },
    { info: "text", code: "plain", line: 15, shows: undefined },
  ]);
});

Deno.test("mismatch() finds a file or an excerpt that drifted", async (t) => {
  const file =
    "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n";
  const [whole, excerpt, reordered, changed] = codeBlocks([
    "<!-- file: f.ts -->",
    "```ts",
    file.trimEnd(),
    "```",
    "<!-- excerpt: f.ts -->",
    "```ts",
    "function a() {",
    "  // …",
    "function b() {",
    "  return 2;",
    "```",
    "<!-- excerpt: f.ts -->",
    "```ts",
    "function b() {",
    "// …",
    "function a() {",
    "```",
    "<!-- excerpt: f.ts -->",
    "```ts",
    "function b() {",
    "  return 3;",
    "```",
  ].join("\n"));
  await t.step("a whole file and an excerpt that match", () => {
    assert.equal(mismatch(whole, file), undefined);
    assert.equal(mismatch(excerpt, file), undefined);
  });
  await t.step("a file with one character changed", () => {
    assert.equal(
      mismatch(whole, file.replace("1", "9")),
      "is not f.ts as it is",
    );
  });
  await t.step("an excerpt out of order, or changed", () => {
    assert.match(mismatch(reordered, file)!, /from "function a\(\) \{"/);
    assert.match(mismatch(changed, file)!, /from "function b\(\) \{"/);
  });
});

Deno.test("relativeLinks() and headingAnchors() read links and headings outside code", () => {
  const markdown =
    "# Run it and read the output\n[a](docs/x.md#y) [b](https://e.org)" +
    " `[c](not/a/link)`\n```md\n[d](in/code.md)\n## Not a heading\n```\n## Next steps (OTLP)\n";
  assert.deepEqual(relativeLinks(markdown), ["docs/x.md#y"]);
  assert.deepEqual(
    [...headingAnchors(markdown)],
    ["run-it-and-read-the-output", "next-steps-otlp"],
  );
});

/** Every Markdown document of the repository, relative to its root. */
async function documents(folder = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(folder || ".", ROOT))) {
    const path = folder + entry.name;
    if (
      entry.isDirectory &&
      !/^(node_modules|\.git|\.build|\.tools)$/.test(entry.name)
    ) {
      found.push(...await documents(`${path}/`));
    } else if (entry.isFile && entry.name.endsWith(".md")) found.push(path);
  }
  return found.sort();
}

async function read(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(new URL(path, ROOT)).catch(() => undefined);
}

Deno.test("every document's file and excerpt blocks match the files", async (t) => {
  for (const document of await documents()) {
    const blocks = codeBlocks((await read(document))!)
      .filter((block) => block.shows);
    if (blocks.length === 0) continue;
    await t.step(document, async () => {
      const base = new URL(document, ROOT);
      for (const block of blocks) {
        const file = await Deno.readTextFile(new URL(block.shows!.path, base));
        const problem = mismatch(block, file);
        assert.equal(
          problem,
          undefined,
          `${document}:${block.line} ${problem}`,
        );
        // A whole file type-checks as a doc test; an excerpt cannot alone.
        if (block.info.startsWith("ts")) {
          assert.equal(
            block.info,
            block.shows!.kind === "file" ? "ts" : "ts ignore",
            `${document}:${block.line}`,
          );
        }
      }
    });
  }
});

Deno.test("every relative link of every document resolves", async (t) => {
  for (const document of await documents()) {
    await t.step(document, async () => {
      const markdown = (await read(document))!;
      for (const link of relativeLinks(markdown)) {
        const [path, anchor] = link.split("#");
        const target = path === ""
          ? document
          : new URL(path, new URL(document, ROOT)).pathname
            .slice(new URL(ROOT).pathname.length);
        const text = path === "" ? markdown : await read(target);
        const exists = text !== undefined ||
          await Deno.stat(new URL(target, ROOT)).then(() => true, () => false);
        assert.ok(exists, `${document}: ${link} leads nowhere`);
        if (anchor && target.endsWith(".md")) {
          assert.ok(
            headingAnchors(text!).has(anchor),
            `${document}: ${link}: no heading makes #${anchor}`,
          );
        }
      }
    });
  }
});

Deno.test("README.zh-CN.md shows the same code and output as README.md", async () => {
  const english = codeBlocks((await read("README.md"))!);
  const chinese = codeBlocks((await read("README.zh-CN.md"))!);
  assert.deepEqual(
    chinese.map(({ info, code, shows }) => ({ info, code, shows })),
    english.map(({ info, code, shows }) => ({ info, code, shows })),
  );
});
