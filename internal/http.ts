/**
 * What every plain-text answer of the service carries.
 *
 * @module
 */

/** The headers of a plain-text response in UTF-8. */
export const TEXT_PLAIN_HEADERS: Readonly<Record<string, string>> = Object
  .freeze({ "content-type": "text/plain; charset=utf-8" });
