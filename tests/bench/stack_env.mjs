// The local stack's stack.env (scripts/stack-up) as an object, for the
// benchmark scripts: KEY=value lines, everything else ignored.
import fs from "node:fs";

export function readEnv(file) {
  const env = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) env[m[1]] = m[2];
  }
  return env;
}
