/**
 * The baseline under `deno serve --parallel`, as `deno task serve` runs
 * dice: the same routes as `bare.ts`, in every worker.
 *
 * @module
 */

import { bareHandler } from "./bare.ts";

/** What `deno serve` runs in each worker. */
export default { fetch: bareHandler } satisfies Deno.ServeDefaultExport;
