// serve.mjs PAGE EMBEDDED_JSON STATUS_JSON TOKEN: a stand-in for the
// watchdog's HTTP server, for the page's refresh tests. Listens on
// 127.0.0.1 (a free port, printed on stdout as "port N") and serves:
//   GET /ok/          the page with EMBEDDED_JSON substituted (as GET / does)
//   GET /ok/status    STATUS_JSON, only with both ?token=TOKEN and
//                     "Authorization: Bearer TOKEN" (else 401)
//   GET /fail/        the same page
//   GET /fail/status  503, always
//   GET /*/runbooks/NAME.md  a line of text
// Every request is logged on stderr as "METHOD PATH auth=yes|no status".
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { substitute } from "./substitute.mjs";

const [pagePath, embeddedPath, statusPath, token] = process.argv.slice(2);
if (!pagePath || !embeddedPath || !statusPath || !token) {
  console.error("usage: serve.mjs PAGE EMBEDDED_JSON STATUS_JSON TOKEN");
  process.exit(64);
}
const page = substitute(readFileSync(pagePath, "utf8"), readFileSync(embeddedPath, "utf8"));
const status = JSON.stringify(JSON.parse(readFileSync(statusPath, "utf8")));

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const auth = req.headers.authorization === `Bearer ${token}`;
  const qtoken = url.searchParams.get("token") === token;
  let code = 404, type = "text/plain", body = "not found\n";
  const m = /^\/(ok|fail)\/(status|runbooks\/[A-Z_]+\.md)?$/.exec(url.pathname);
  if (m && m[2] === undefined) {
    code = 200; type = "text/html; charset=utf-8"; body = page;
  } else if (m && m[2] === "status") {
    if (m[1] === "fail") { code = 503; body = "unavailable\n"; }
    else if (!auth || !qtoken) { code = 401; body = "token required\n"; }
    else { code = 200; type = "application/json"; body = status; }
  } else if (m) {
    code = 200; body = `# ${m[2]}\n`;
  }
  console.error(`${req.method} ${url.pathname} auth=${auth ? "yes" : "no"} query_token=${qtoken ? "yes" : "no"} ${code}`);
  res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(`port ${server.address().port}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
