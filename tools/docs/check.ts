/**
 * Keeps the documents honest: a code block that a document shows as a file,
 * or as an excerpt of one, must match that file; every relative link must
 * lead somewhere. `check_test.ts` runs these over every document, so that
 * CI fails the moment code and documents drift apart.
 *
 * A block says what it shows in an HTML comment on the line before it:
 *
 * - `<!-- file: rolldice.ts -->`: the block is the whole file.
 * - `<!-- excerpt: main.ts -->`: every run of lines between elisions (a line
 *   that is `…` or `// …`, indented or not) stands in the file, in order.
 *
 * @module
 */

/** One fenced code block of a Markdown document. */
export interface CodeBlock {
  /** The info string after the opening fence, such as `ts ignore`. */
  info: string;
  /** The lines between the fences, joined with `\n`. */
  code: string;
  /** The 1-based line of the opening fence. */
  line: number;
  /** What the comment before the block says it shows, if anything. */
  shows?: { kind: "file" | "excerpt"; path: string };
}

const MARKER = /^<!--\s*(file|excerpt):\s*(\S+)\s*-->$/;

/** The fenced code blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    let end = i + 1;
    while (end < lines.length && lines[end].trim() !== fence) end++;
    const code = lines.slice(i + 1, end).map((line) =>
      line.startsWith(indent) ? line.slice(indent.length) : line
    ).join("\n");
    const marker = MARKER.exec(previousLine(lines, i));
    blocks.push({
      info: info.trim(),
      code,
      line: i + 1,
      shows: marker
        ? { kind: marker[1] as "file" | "excerpt", path: marker[2] }
        : undefined,
    });
    i = end;
  }
  return blocks;
}

function previousLine(lines: string[], index: number): string {
  for (let i = index - 1; i >= 0; i--) {
    if (lines[i].trim() !== "") return lines[i].trim();
  }
  return "";
}

const ELISION = /^\s*(\/\/\s*)?…\s*$/;

/**
 * What is wrong with `block` as a view of `file` (the text of the file it
 * names), or undefined when it matches.
 */
export function mismatch(block: CodeBlock, file: string): string | undefined {
  if (block.shows?.kind === "file") {
    return block.code === file.replace(/\n$/, "")
      ? undefined
      : `is not ${block.shows.path} as it is`;
  }
  let from = 0;
  for (const chunk of chunksOf(block.code)) {
    const at = file.indexOf(chunk, from);
    if (at < 0) {
      const first = chunk.split("\n")[0].trim();
      return `has lines that ${block.shows?.path} does not have in that order, from ${
        JSON.stringify(first)
      }`;
    }
    from = at + chunk.length;
  }
  return undefined;
}

// The runs of lines between elisions, without blank lines at their ends.
function chunksOf(code: string): string[] {
  const chunks: string[][] = [[]];
  for (const line of code.split("\n")) {
    if (ELISION.test(line)) chunks.push([]);
    else chunks.at(-1)!.push(line);
  }
  return chunks
    .map((lines) => lines.join("\n").replace(/^\n+|\n+$/g, ""))
    .filter((chunk) => chunk !== "");
}

/** The relative link targets of `markdown`: `[text](target)`, not in code. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, "")
    .replace(/`[^`\n]*`/g, "");
  const targets = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return targets.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

/** The anchors GitHub gives the headings of `markdown`. */
export function headingAnchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, "");
  const anchors = new Set<string>();
  for (const [, heading] of prose.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return anchors;
}
