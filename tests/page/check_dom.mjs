// check_dom.mjs DOM_FILE [EXPECT_STATE [EXPECT_INVARIANT]]: checks a page
// dumped by Chromium (--dump-dom) against the on-call page's DOM contract.
// Prints one line per finding; exits 1 if any check failed.
//
// Optional environment: PAGE_CHECK_HEADLINE (a regular expression the
// headline must match), PAGE_CHECK_STALE (visible | hidden).
import { readFileSync } from "node:fs";

const [file, expectState = "", expectInvariant = ""] = process.argv.slice(2);
if (!file) {
  console.error("usage: check_dom.mjs DOM_FILE [EXPECT_STATE [EXPECT_INVARIANT]]");
  process.exit(64);
}
const dom = readFileSync(file, "utf8");
let failed = 0;
const fail = (msg) => { failed++; console.log(`FAIL: ${msg}`); };
const ok = (msg) => console.log(`ok: ${msg}`);

const decode = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
  .replace(/&nbsp;/g, "\u00a0").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(+n)).replace(/&amp;/g, "&");
const attrs = (s) => {
  const o = {};
  for (const m of s.matchAll(/([^\s="'>\/]+)(?:="([^"]*)")?/g)) o[m[1].toLowerCase()] = decode(m[2] ?? "");
  return o;
};
// every start tag of one name, with its attributes
const tags = (name) => [...dom.matchAll(new RegExp(`<${name}(\\s[^>]*)?>`, "gi"))].map((m) => attrs(m[1] ?? ""));
const text = (html) => decode(html.replace(/<[^>]*>/g, "")).replace(/\s+/g, " ").trim();
const byId = (id) => {
  const m = new RegExp(`<([a-z0-9]+)\\s[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`, "i").exec(dom);
  return m ? { attrs: attrs(m[0].slice(1, m[0].indexOf(">"))), html: m[2] } : null;
};

if (!/<\/html>\s*$/i.test(dom.trim() + "\n") && !/<\/body>/i.test(dom)) fail("the dump is not a whole page (did Chromium load it?)");
const body = tags("body")[0];
if (!body) {
  fail("no <body> in the dumped DOM");
} else {
  const st = body["data-state"];
  if (!["HALTED", "RUNNING", "UNKNOWN"].includes(st)) fail(`body data-state is ${JSON.stringify(st)}, not HALTED, RUNNING or UNKNOWN`);
  else if (expectState && st !== expectState) fail(`body data-state is ${st}, expected ${expectState}`);
  else ok(`body data-state=${st}`);
  if ("data-pwned" in body) fail(`text from the data ran as script (body data-pwned=${body["data-pwned"]})`);
}
const h = byId("headline");
const headline = h ? text(h.html) : "";
if (!h) fail("no #headline");
else if (!headline) fail("#headline is empty");
else ok(`headline: ${headline}`);
if (process.env.PAGE_CHECK_HEADLINE && !new RegExp(process.env.PAGE_CHECK_HEADLINE).test(headline))
  fail(`the headline does not match /${process.env.PAGE_CHECK_HEADLINE}/: ${JSON.stringify(headline)}`);

const rows = tags("tr").filter((a) => "data-asset" in a);
for (const r of rows) {
  if (r["data-ok"] !== "true" && r["data-ok"] !== "false") fail(`asset row ${r["data-asset"]}: data-ok is ${JSON.stringify(r["data-ok"])}`);
}
ok(`asset rows: ${rows.map((r) => `${r["data-asset"]}(ok=${r["data-ok"]})`).join(" ") || "none"}`);
const halts = tags("[a-z0-9]+").filter((a) => "data-halt-id" in a);
ok(`halts in force shown: ${halts.map((a) => `${a["data-halt-id"]}(${a["data-invariant"] ?? "?"})`).join(" ") || "none"}`);
const links = tags("a").filter((a) => (a.class ?? "").split(/\s+/).includes("runbook"));
for (const a of links) {
  if (!/^runbooks\/[A-Z][A-Z0-9_]*\.md(\?token=[^#]*)?$/.test(a.href ?? "")) fail(`a.runbook with an unexpected href: ${JSON.stringify(a.href)}`);
}
ok(`runbook links: ${[...new Set(links.map((a) => a.href))].join(" ") || "none"}`);

if (body && body["data-state"] === "HALTED" && (!expectState || expectState === "HALTED")) {
  const inv = expectInvariant || (halts[0] && halts[0]["data-invariant"]) || "";
  if (!/HALTED/.test(headline)) fail(`HALTED, but the headline does not say so: ${JSON.stringify(headline)}`);
  if (!inv) fail("HALTED, but no invariant given and no #halts [data-halt-id][data-invariant] to name it");
  else {
    if (!headline.includes(inv)) fail(`HALTED on ${inv}, but the headline does not name it: ${JSON.stringify(headline)}`);
    if (!links.some((a) => (a.href ?? "").startsWith(`runbooks/${inv}.md`))) fail(`HALTED on ${inv}, but no a.runbook links to runbooks/${inv}.md`);
    if (expectInvariant && !halts.some((a) => a["data-invariant"] === inv)) fail(`no #halts [data-halt-id] element for ${inv}`);
  }
  if (!rows.length) fail("HALTED, but no #assets tr[data-asset] row");
  if (inv === "SUPPLY_MISMATCH" && !rows.some((r) => r["data-ok"] === "false")) fail("HALTED on SUPPLY_MISMATCH, but no asset row has data-ok=false");
}

const stale = byId("stale");
if (!stale) fail("no #stale element");
else {
  const visible = !("hidden" in stale.attrs);
  ok(`#stale ${visible ? "visible: " + text(stale.html) : "hidden"}`);
  const want = process.env.PAGE_CHECK_STALE;
  if (want === "visible" && !visible) fail("#stale is hidden, expected it visible");
  if (want === "hidden" && visible) fail(`#stale is visible, expected it hidden: ${text(stale.html)}`);
}
if (tags("img").length) fail(`${tags("img").length} <img> element(s) in the page: markup from the data was inserted`);
if (tags("script").length !== 1) fail(`${tags("script").length} <script> elements, expected the page's one`);
process.exit(failed ? 1 : 0);
