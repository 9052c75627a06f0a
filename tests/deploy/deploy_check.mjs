// The structural checks of deploy/ that no installed tool makes; called by
// tests/deploy/deploy_check.sh (see there).
//
//   node deploy_check.mjs rules      SOURCE_DIR
//   node deploy_check.mjs metrics    SOURCE_DIR EXPOSITION_FILE
//   node deploy_check.mjs grafana    SOURCE_DIR
//   node deploy_check.mjs kubernetes SOURCE_DIR CATALOGUE_OR_EMPTY
//
// Each prints one line per problem ("FILE: what is wrong") and exits 1 when
// there is any.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [mode, src, arg] = process.argv.slice(2);
const require = createRequire(path.join(src, 'package.json'));
let YAML;
try {
  YAML = require('yaml');
} catch {
  console.error(`deploy_check: the npm package "yaml" is missing: run "npm ci" in ${src}`);
  process.exit(2);
}

const problems = [];
const fail = (file, msg) => problems.push(`${path.relative(src, file) || file}: ${msg}`);
const RULES = path.join(src, 'deploy/prometheus/relaywatch-rules.yml');
const RULES_TEST = path.join(src, 'deploy/prometheus/relaywatch-rules.test.yml');
const DASHBOARD = path.join(src, 'deploy/grafana/relaywatch-dashboard.json');
const K8S = path.join(src, 'deploy/kubernetes');

function readYamlDocs(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out = [];
  for (const d of docs) {
    if (d.errors.length) {
      for (const e of d.errors) fail(file, `YAML: ${e.message}`);
      continue;
    }
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function alertRules() {
  const [doc] = readYamlDocs(RULES);
  const rules = [];
  for (const g of doc?.groups ?? []) for (const r of g.rules ?? []) rules.push(r);
  return rules;
}

// --- rules: labels, annotations, runbooks, and a firing and a quiet test each
function checkRules() {
  const rules = alertRules();
  if (rules.length === 0) fail(RULES, 'no alert rules');
  const names = new Set();
  for (const r of rules) {
    if (!r.alert) { fail(RULES, `a rule without "alert": ${r.record ?? r.expr}`); continue; }
    if (names.has(r.alert)) fail(RULES, `alert ${r.alert} defined twice`);
    names.add(r.alert);
    const sev = r.labels?.severity;
    if (!['critical', 'error', 'warning'].includes(sev))
      fail(RULES, `alert ${r.alert}: label severity is "${sev}", not critical | error | warning`);
    for (const a of ['summary', 'description', 'runbook'])
      if (!r.annotations?.[a]) fail(RULES, `alert ${r.alert}: no annotation "${a}"`);
    const rb = r.annotations?.runbook;
    if (rb) {
      if (!/^runbooks\/[A-Za-z0-9_]+\.md$/.test(rb))
        fail(RULES, `alert ${r.alert}: runbook "${rb}" is not runbooks/NAME.md`);
      else if (!fs.existsSync(path.join(src, rb)))
        fail(RULES, `alert ${r.alert}: runbook ${rb} does not exist in the repository`);
    }
  }
  const [t] = readYamlDocs(RULES_TEST);
  const fires = new Set(), quiet = new Set();
  for (const test of t?.tests ?? [])
    for (const a of test.alert_rule_test ?? [])
      ((a.exp_alerts ?? []).length ? fires : quiet).add(a.alertname);
  for (const n of names) {
    if (!fires.has(n)) fail(RULES_TEST, `no test in which ${n} fires`);
    if (!quiet.has(n)) fail(RULES_TEST, `no test in which ${n} stays quiet`);
  }
  for (const n of new Set([...fires, ...quiet]))
    if (!names.has(n)) fail(RULES_TEST, `tests alert ${n}, which the rules do not define`);
}

// --- PromQL: the metric names and label names an expression uses
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool',
  'and', 'or', 'unless', 'atan2', 'offset', 'inf', 'nan', 'start', 'end']);
const ALWAYS_LABELS = new Set(['job', 'instance', 'bridge', '__name__']);

function promqlRefs(expr) {
  const selectors = [];   // [metric, [label names]]
  const groupLabels = []; // labels in by (...), on (...) ...
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}/g, (m, name, body) => {
    const labels = [...body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]);
    if (name && !KEYWORDS.has(name.toLowerCase())) selectors.push([name, labels]);
    return name ? ` ${name} ` : ' ';
  });
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/gi, (m, kw, list) => {
    for (const l of list.split(',').map((x) => x.trim()).filter(Boolean)) groupLabels.push(l);
    return ' ';
  });
  s = s.replace(/\$\{?[A-Za-z0-9_]+\}?/g, ' ');                       // Grafana variables
  s = s.replace(/(^|[^A-Za-z0-9_:.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|w|y)?\b/gi, '$1 ');
  const names = [];
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = s.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue;                                  // a function
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return { names, selectors, groupLabels };
}

// Every PromQL expression of the rules and the dashboard, with where it is.
function expressions() {
  const out = [];
  for (const r of alertRules()) out.push([RULES, `alert ${r.alert}`, String(r.expr)]);
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push([DASHBOARD, `panel "${p.title}" ${t.refId}`, t.expr]);
      walk(p.panels);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)/.exec(q ?? '');
    if (m) out.push([DASHBOARD, `variable $${v.name}`, m[1]]);
  }
  return out;
}

// The exposition: series names and the labels seen on each.
function parseExposition(file) {
  const series = new Map(); // name -> Set(labels)
  const types = new Map();
  const add = (n) => { if (!series.has(n)) series.set(n, new Set()); return series.get(n); };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let m;
    if ((m = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)/.exec(line))) {
      types.set(m[1], m[2]);
      if (m[2] === 'histogram' || m[2] === 'summary') {
        for (const suf of ['_sum', '_count']) add(m[1] + suf);
        if (m[2] === 'histogram') add(m[1] + '_bucket').add('le');
        else add(m[1]).add('quantile');
      } else add(m[1]);
    } else if ((m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+\S+/.exec(line))) {
      const set = add(m[1]);
      for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) set.add(l[1]);
    }
  }
  return { series, types };
}

function checkMetrics(expoFile) {
  const { series, types } = parseExposition(expoFile);
  if (series.size === 0) { fail(expoFile, 'no metric in the exposition'); return; }
  const allLabels = new Set([...ALWAYS_LABELS, 'le']);
  for (const set of series.values()) for (const l of set) allLabels.add(l);
  const used = new Set();
  for (const [file, where, expr] of expressions()) {
    const { names, selectors, groupLabels } = promqlRefs(expr);
    if (names.length === 0) fail(file, `${where}: no metric found in "${expr}"`);
    for (const n of names) {
      if (n === 'up') continue;
      const base = n.replace(/_(bucket|sum|count)$/, '');
      used.add(base !== n && ['histogram', 'summary'].includes(types.get(base)) ? base : n);
      if (series.has(n)) continue;
      fail(file, `${where}: metric ${n} is not exported by relaywatch` +
        (types.get(n) === 'histogram' ? ` (a histogram: use ${n}_bucket, _sum or _count)` : ''));
    }
    for (const [n, labels] of selectors) {
      const known = series.get(n);
      if (!known || known.size === 0) continue;
      for (const l of labels)
        if (!known.has(l) && !ALWAYS_LABELS.has(l)) fail(file, `${where}: ${n} has no label "${l}" (it has: ${[...known].join(', ') || 'none'})`);
    }
    for (const l of groupLabels)
      if (!allLabels.has(l)) fail(file, `${where}: label "${l}" in by/on (...) is on no metric of relaywatch`);
  }
  const unused = [...types.keys()].filter((f) => !used.has(f));
  if (unused.length) console.log(`note: families exported but shown nowhere: ${unused.join(', ')}`);
  console.log(`metrics: ${used.size} families referenced by the rules and the dashboard, ${types.size} exported`);
}

// --- Grafana: the dashboard's shape
function checkGrafana() {
  let d;
  try { d = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')); } catch (e) { fail(DASHBOARD, `not JSON: ${e.message}`); return; }
  if (!(d.schemaVersion >= 36 && d.schemaVersion <= 39)) fail(DASHBOARD, `schemaVersion ${d.schemaVersion}, expected 36..39`);
  if (!d.uid || !d.title) fail(DASHBOARD, 'no uid or title');
  const inp = (d.__inputs ?? []).find((i) => i.name === 'DS_PROMETHEUS');
  if (!inp || inp.type !== 'datasource' || inp.pluginId !== 'prometheus')
    fail(DASHBOARD, '__inputs has no DS_PROMETHEUS datasource input of plugin prometheus');
  const dsOk = (ds) => ds && (ds === '${DS_PROMETHEUS}' || ds.uid === '${DS_PROMETHEUS}');
  const rows = [];
  const ids = new Set();
  const all = [];
  const walk = (panels) => { for (const p of panels ?? []) { all.push(p); walk(p.panels); } };
  walk(d.panels);
  for (const p of all) {
    if (ids.has(p.id)) fail(DASHBOARD, `panel id ${p.id} used twice`);
    ids.add(p.id);
    const g = p.gridPos;
    if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || !(g.h > 0)) fail(DASHBOARD, `panel "${p.title}": gridPos missing or outside 24 columns`);
    if (p.type === 'row') { rows.push(p.title); continue; }
    if (!dsOk(p.datasource)) fail(DASHBOARD, `panel "${p.title}": datasource is not \${DS_PROMETHEUS}`);
    if (!(p.targets ?? []).length) fail(DASHBOARD, `panel "${p.title}": no query`);
    for (const t of p.targets ?? []) {
      if (!t.expr) fail(DASHBOARD, `panel "${p.title}" ${t.refId}: empty expr`);
      if (t.datasource && !dsOk(t.datasource)) fail(DASHBOARD, `panel "${p.title}" ${t.refId}: datasource is not \${DS_PROMETHEUS}`);
    }
  }
  const want = ['System status', 'Detailed metrics', 'Alerts & events'];
  if (JSON.stringify(rows) !== JSON.stringify(want))
    fail(DASHBOARD, `rows are ${JSON.stringify(rows)}, expected ${JSON.stringify(want)}`);
  for (const v of d.templating?.list ?? [])
    if (v.type === 'query' && !dsOk(v.datasource)) fail(DASHBOARD, `variable $${v.name}: datasource is not \${DS_PROMETHEUS}`);
}

// --- Kubernetes
function checkKubernetes(catalogue) {
  if (!fs.existsSync(K8S)) { fail(K8S, 'missing'); return; }
  const files = fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(K8S, f));
  const objs = [];
  for (const f of files) for (const o of readYamlDocs(f)) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name) fail(f, `a document without apiVersion, kind or metadata.name`);
    else objs.push([f, o]);
  }
  const of = (kind) => objs.filter(([, o]) => o.kind === kind);
  const one = (kind) => {
    const l = of(kind);
    if (l.length !== 1) fail(K8S, `expected one ${kind}, found ${l.length}`);
    return l[0] ?? [K8S, null];
  };
  const [sf, ss] = one('StatefulSet');
  const [, secret] = one('Secret');
  const [, cm] = one('ConfigMap');
  const [pf, pdb] = one('PodDisruptionBudget');
  const [svf, svc] = one('Service');
  if (!ss) return;
  const spec = ss.spec ?? {};
  if (spec.replicas !== 2) fail(sf, `StatefulSet ${ss.metadata.name}: replicas is ${spec.replicas}, expected 2`);
  const podLabels = spec.template?.metadata?.labels ?? {};
  const matches = (sel, labels) => sel && Object.keys(sel).length > 0 &&
    Object.entries(sel).every(([k, v]) => labels[k] === v);
  if (!matches(spec.selector?.matchLabels, podLabels)) fail(sf, 'selector.matchLabels does not match the pod template labels');
  const vcts = spec.volumeClaimTemplates ?? [];
  if (vcts.length === 0) fail(sf, 'no volumeClaimTemplates: the replicas would not each have their own state volume');
  const pod = spec.template?.spec ?? {};
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true) fail(sf, 'pod securityContext.runAsNonRoot is not true');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') fail(sf, 'pod securityContext.seccompProfile.type is not RuntimeDefault');
  if (pod.automountServiceAccountToken !== false) fail(sf, 'automountServiceAccountToken is not false');
  const secretKeys = new Set([...Object.keys(secret?.stringData ?? {}), ...Object.keys(secret?.data ?? {})]);
  const secretName = secret?.metadata?.name;
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const v of volumes.values()) {
    if (v.secret) {
      if (v.secret.secretName !== secretName) fail(sf, `volume ${v.name}: Secret ${v.secret.secretName} is not defined (${secretName} is)`);
      for (const it of v.secret.items ?? []) if (!secretKeys.has(it.key)) fail(sf, `volume ${v.name}: key ${it.key} is not in Secret ${secretName}`);
    }
    if (v.configMap && v.configMap.name !== cm?.metadata?.name) fail(sf, `volume ${v.name}: ConfigMap ${v.configMap.name} is not defined`);
  }
  const endpoints = catalogue ? [...fs.readFileSync(catalogue, 'utf8').matchAll(/^GET (\/\S*)/gm)].map((m) => m[1]) : null;
  const rw = pod.containers?.find((c) => c.name === 'relaywatch');
  if (!rw) fail(sf, 'no container named relaywatch');
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const where = `container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) fail(sf, `${where}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) fail(sf, `${where}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail(sf, `${where}: capabilities do not drop ALL`);
    if ((sc.capabilities?.add ?? []).length) fail(sf, `${where}: adds capabilities`);
    if (sc.runAsNonRoot === false || sc.runAsUser === 0) fail(sf, `${where}: runs as root`);
    const r = c.resources ?? {};
    for (const k of ['requests', 'limits'])
      for (const res of ['cpu', 'memory'])
        if (!r[k]?.[res]) fail(sf, `${where}: resources.${k}.${res} not set`);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        if (ref.name !== secretName) fail(sf, `${where}: env ${e.name} refers to Secret ${ref.name}, not defined (${secretName} is)`);
        else if (!secretKeys.has(ref.key)) fail(sf, `${where}: env ${e.name} refers to key ${ref.key}, not in Secret ${secretName}`);
      }
      const cref = e.valueFrom?.configMapKeyRef;
      if (cref && !(cref.key in (cm?.data ?? {}))) fail(sf, `${where}: env ${e.name} refers to ConfigMap key ${cref.key}, not defined`);
    }
    for (const m of c.volumeMounts ?? [])
      if (!volumes.has(m.name) && !vcts.some((v) => v.metadata?.name === m.name))
        fail(sf, `${where}: volumeMount ${m.name} has no volume`);
  }
  if (rw) {
    const ports = new Map((rw.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const [probe, want] of [['livenessProbe', '/health/live'], ['readinessProbe', '/health/ready'], ['startupProbe', '/health/startup']]) {
      const g = rw[probe]?.httpGet;
      if (!g) { fail(sf, `container relaywatch: no ${probe}.httpGet`); continue; }
      if (g.path !== want) fail(sf, `container relaywatch: ${probe} path ${g.path}, expected ${want}`);
      if (endpoints && !endpoints.includes(g.path)) fail(sf, `container relaywatch: ${probe} path ${g.path} is not an endpoint of relaywatch (${catalogue})`);
      const port = typeof g.port === 'string' ? ports.get(g.port) : g.port;
      if (port !== 9464) fail(sf, `container relaywatch: ${probe} port ${g.port} is not 9464`);
    }
    if (!vcts.some((v) => (rw.volumeMounts ?? []).some((m) => m.name === v.metadata?.name)))
      fail(sf, 'container relaywatch does not mount its volumeClaimTemplate');
  }
  if (pdb) {
    if (pdb.spec?.minAvailable !== 1) fail(pf, `minAvailable is ${pdb.spec?.minAvailable}, expected 1`);
    if (!matches(pdb.spec?.selector?.matchLabels, podLabels)) fail(pf, 'selector does not match the pod labels');
  }
  if (svc) {
    if (!matches(svc.spec?.selector, podLabels)) fail(svf, 'Service selector does not match the pod labels');
    const a = svc.metadata?.annotations ?? {};
    if (a['prometheus.io/scrape'] !== 'true' || a['prometheus.io/port'] !== '9464' || a['prometheus.io/path'] !== '/metrics')
      fail(svf, 'Service lacks prometheus.io/scrape "true", port "9464", path "/metrics" annotations');
  }
  if (ss.spec?.serviceName && ss.spec.serviceName !== svc?.metadata?.name)
    fail(sf, `serviceName ${ss.spec.serviceName} is not the Service defined (${svc?.metadata?.name})`);
  // relaywatch must listen on 0.0.0.0 there, and then needs its token
  const conf = Object.values(cm?.data ?? {}).join('\n');
  if (!/^\s*listen\s*=\s*0\.0\.0\.0:9464\s*$/m.test(conf)) fail(K8S, 'the ConfigMap\'s config does not set [http] listen = 0.0.0.0:9464');
  if (!/^\s*token\s*=\s*\S+/m.test(conf)) fail(K8S, 'the ConfigMap\'s config sets no [http] token (required off loopback)');
  for (const key of ['signing-key', 'db-password', 'redis-password', 'pagerduty-routing-key', 'http-token'])
    if (!secretKeys.has(key)) fail(K8S, `Secret ${secretName} has no key ${key}`);
}

if (mode === 'rules') checkRules();
else if (mode === 'metrics') checkMetrics(arg);
else if (mode === 'grafana') checkGrafana();
else if (mode === 'kubernetes') checkKubernetes(arg || null);
else { console.error(`deploy_check.mjs: unknown mode ${mode}`); process.exit(2); }
for (const p of problems) console.error(p);
process.exit(problems.length ? 1 : 0);
