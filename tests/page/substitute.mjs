// substitute.mjs PAGE STATUS_JSON OUT: what the HTTP server does for GET /.
//
// The page carries the exact text /*RELAYWATCH_STATUS*/null once, in a
// <script>; it is replaced by the status JSON with every "<" written as
// \u003c, so nothing in the data can end the script. Also importable:
// substitute(pageText, jsonText) -> html.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const MARKER = "/*RELAYWATCH_STATUS*/null";

export function substitute(page, jsonText) {
  const first = page.indexOf(MARKER);
  if (first < 0) throw new Error(`the page lacks the marker ${MARKER}`);
  if (page.indexOf(MARKER, first + 1) >= 0) throw new Error(`the marker ${MARKER} appears more than once`);
  const json = JSON.stringify(JSON.parse(jsonText)).replace(/</g, "\\u003c");
  return page.slice(0, first) + json + page.slice(first + MARKER.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [page, status, out] = process.argv.slice(2);
  if (!page || !status || !out) {
    console.error("usage: substitute.mjs PAGE STATUS_JSON OUT");
    process.exit(64);
  }
  try {
    writeFileSync(out, substitute(readFileSync(page, "utf8"), readFileSync(status, "utf8")));
  } catch (e) {
    console.error(`substitute.mjs: ${status}: ${e.message}`);
    process.exit(1);
  }
}
