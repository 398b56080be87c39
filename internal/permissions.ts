/**
 * What the service says when it runs without the permissions deno.json
 * declares: one line that says how to run it, rather than a stack trace.
 *
 * @module
 */

import { messageOf } from "./errors.ts";
import { logToStderr } from "./stderr.ts";

/**
 * For `main().catch()`: a missing permission (`deno run main.ts` without
 * -P stops at the first variable it reads) is said in one line, exit 1;
 * anything else is thrown on.
 */
export function explainPermissions(error: unknown): number {
  if (!(error instanceof Deno.errors.NotCapable)) throw error;
  logToStderr(
    `${messageOf(error)}; run deno task start, or deno run -P main.ts, ` +
      "which grants the permissions that deno.json declares",
  );
  return 1;
}
