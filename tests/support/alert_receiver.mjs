#!/usr/bin/env node
// alert_receiver.mjs --port PORT --log FILE [--webhook-secret S]
//
// A strict local stand-in for the receivers relaywatch pages through, for
// the integration tests and `relaywatch alert test`. It listens on
// 127.0.0.1:PORT (0: a free port), prints "listening PORT" on stdout once
// it accepts connections, and answers like the real services:
//
//   POST /v2/enqueue       PagerDuty Events API v2: 202 {"status":"success",
//                          "message":"Event processed","dedup_key":...}, or
//                          400 {"status":"invalid event","message":"Event
//                          object is invalid","errors":[...]}
//   POST /slack/ANYTHING   a Slack incoming webhook: 200 "ok", or 400
//                          "invalid_payload"
//   POST /webhook/ANYTHING relaywatch's signed webhook: 200, or 401 when the
//                          signature (checked with --webhook-secret) or the
//                          timestamp (300 s either way) is wrong
//
// Every payload is checked against the documented format, strictly (see
// the check* functions). Each request is appended to FILE as one JSON line
// {t, path, kind, valid, errors, status, body} (body parsed when it is
// JSON), so a test can count the triggers and resolves of a dedup key.
//
//   POST /_control  {"path_prefix": "/v2/enqueue", "mode": "ok" | "status" |
//                   "hang" | "close", "status": 429, "retry_after": "2",
//                   "body": "...", "count": N}
//                   makes the next N requests under path_prefix (all of them
//                   when count is left out, until changed) answer normally,
//                   answer `status` (with Retry-After and `body` when given),
//                   never answer, or be cut off. The payload is still checked
//                   and logged.
//   GET /_log       the log as a JSON array
//   GET /_health    200 {"ok":true}
//
// No dependencies beyond Node itself.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

function usage(msg) {
        process.stderr.write(`alert_receiver: ${msg}\n` +
                'usage: alert_receiver.mjs --port PORT --log FILE [--webhook-secret S]\n');
        process.exit(64);
}

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
        const k = process.argv[i], v = process.argv[i + 1];
        if (!['--port', '--log', '--webhook-secret'].includes(k) || v === undefined)
                usage(`bad argument ${k}`);
        args[k.slice(2)] = v;
}
if (args.port === undefined || !/^\d+$/.test(args.port) || !args.log)
        usage('--port and --log are required');
const secret = args['webhook-secret'];

const log = [];
let rules = []; // {path_prefix, mode, status, retry_after, body, count}
const hung = new Set();

// ---------------------------------------------------------------- checks

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const chars = (s) => [...s].length; // code points, as the services count
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isUrl(s) {
        try {
                new URL(s);
                return true;
        } catch {
                return false;
        }
}

function unknownKeys(o, allowed, where, errors) {
        for (const k of Object.keys(o))
                if (!allowed.includes(k))
                        errors.push(`${where}'${k}' is not a field of the format`);
}

function checkString(v, name, errors, {max, required = true, min = 1} = {}) {
        if (v === undefined) {
                if (required)
                        errors.push(`'${name}' is missing`);
                return;
        }
        if (typeof v !== 'string')
                errors.push(`'${name}' is not a string`);
        else if (chars(v) < min)
                errors.push(`'${name}' is empty`);
        else if (max !== undefined && chars(v) > max)
                errors.push(`Length of '${name}' is ${chars(v)}, more than ${max}`);
}

// PagerDuty Events API v2, POST /v2/enqueue.
function checkPagerDuty(e) {
        const errors = [];
        if (!isObject(e))
                return ['Event is not a JSON object'];
        unknownKeys(e, ['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links',
                'client', 'client_url'], '', errors);
        if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32)
                errors.push("'routing_key' must be a string of 32 characters");
        if (!['trigger', 'acknowledge', 'resolve'].includes(e.event_action))
                errors.push("'event_action' must be one of trigger, acknowledge, resolve");
        checkString(e.dedup_key, 'dedup_key', errors,
                {max: 255, required: e.event_action !== 'trigger'});
        if (e.event_action === 'trigger') {
                if (!isObject(e.payload))
                        errors.push("'payload' is missing or not an object");
                else
                        checkPayload(e.payload, errors);
        }
        if (e.links !== undefined) {
                if (!Array.isArray(e.links))
                        errors.push("'links' is not an array");
                else
                        e.links.forEach((l, i) => {
                                if (!isObject(l) || typeof l.href !== 'string' || !isUrl(l.href))
                                        errors.push(`'links[${i}].href' is not a URL`);
                                else
                                        unknownKeys(l, ['href', 'text'], `links[${i}].`, errors);
                                if (isObject(l) && l.text !== undefined)
                                        checkString(l.text, `links[${i}].text`, errors);
                        });
        }
        if (e.images !== undefined && !Array.isArray(e.images))
                errors.push("'images' is not an array");
        checkString(e.client, 'client', errors, {required: false});
        if (e.client_url !== undefined &&
            (typeof e.client_url !== 'string' || !isUrl(e.client_url)))
                errors.push("'client_url' is not a URL");
        return errors;
}

function checkPayload(p, errors) {
        unknownKeys(p, ['summary', 'source', 'severity', 'timestamp', 'component', 'group',
                'class', 'custom_details'], 'payload.', errors);
        checkString(p.summary, 'payload.summary', errors, {max: 1024});
        checkString(p.source, 'payload.source', errors, {max: 255});
        if (!['critical', 'error', 'warning', 'info'].includes(p.severity))
                errors.push("'payload.severity' must be one of critical, error, warning, info");
        if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' ||
            !RFC3339.test(p.timestamp) || Number.isNaN(Date.parse(p.timestamp))))
                errors.push("'payload.timestamp' is not an RFC 3339 time");
        for (const k of ['component', 'group', 'class'])
                checkString(p[k], `payload.${k}`, errors, {required: false});
        if (p.custom_details !== undefined && !isObject(p.custom_details))
                errors.push("'payload.custom_details' is not an object");
}

// A Slack text object: plain_text or mrkdwn, at most `max` characters.
function checkText(t, where, max, errors, {plainOnly = false} = {}) {
        if (!isObject(t)) {
                errors.push(`${where} is not a text object`);
                return;
        }
        const types = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
        if (!types.includes(t.type))
                errors.push(`${where}.type must be ${types.join(' or ')}`);
        unknownKeys(t, ['type', 'text', t.type === 'plain_text' ? 'emoji' : 'verbatim'],
                `${where}.`, errors);
        checkString(t.text, `${where}.text`, errors, {max});
}

const BLOCK_TYPES = ['header', 'section', 'context', 'divider', 'actions', 'image', 'rich_text',
        'input', 'file', 'video'];

function checkBlock(b, i, errors) {
        const at = `blocks[${i}]`;
        if (!isObject(b) || !BLOCK_TYPES.includes(b.type)) {
                errors.push(`${at}.type is not a known block type`);
                return;
        }
        checkString(b.block_id, `${at}.block_id`, errors, {max: 255, required: false});
        if (b.type === 'header') {
                unknownKeys(b, ['type', 'text', 'block_id'], `${at}.`, errors);
                checkText(b.text, `${at}.text`, 150, errors, {plainOnly: true});
        } else if (b.type === 'section') {
                unknownKeys(b, ['type', 'text', 'fields', 'accessory', 'block_id'], `${at}.`,
                        errors);
                if (b.text === undefined && b.fields === undefined)
                        errors.push(`${at} has neither text nor fields`);
                if (b.text !== undefined)
                        checkText(b.text, `${at}.text`, 3000, errors);
                if (b.fields !== undefined) {
                        if (!Array.isArray(b.fields) || b.fields.length < 1 || b.fields.length > 10)
                                errors.push(`${at}.fields must be 1 to 10 text objects`);
                        else
                                b.fields.forEach((f, k) => checkText(f, `${at}.fields[${k}]`, 2000,
                                        errors));
                }
        } else if (b.type === 'context') {
                unknownKeys(b, ['type', 'elements', 'block_id'], `${at}.`, errors);
                if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10)
                        errors.push(`${at}.elements must be 1 to 10 elements`);
                else
                        b.elements.forEach((e, k) => {
                                if (!(isObject(e) && e.type === 'image'))
                                        checkText(e, `${at}.elements[${k}]`, 3000, errors);
                        });
        } else if (b.type === 'divider') {
                unknownKeys(b, ['type', 'block_id'], `${at}.`, errors);
        }
}

// A Slack incoming webhook message.
function checkSlack(m) {
        const errors = [];
        if (!isObject(m))
                return ['the message is not a JSON object'];
        unknownKeys(m, ['text', 'blocks', 'attachments', 'thread_ts', 'mrkdwn', 'unfurl_links',
                'unfurl_media', 'username', 'icon_emoji', 'icon_url', 'channel'], '', errors);
        const hasText = typeof m.text === 'string' && m.text.length > 0;
        const hasBlocks = Array.isArray(m.blocks) && m.blocks.length > 0;
        if (!hasText && !hasBlocks)
                errors.push('neither text nor blocks');
        if (m.text !== undefined)
                checkString(m.text, 'text', errors, {max: 40000});
        if (m.blocks !== undefined) {
                if (!Array.isArray(m.blocks) || m.blocks.length > 50)
                        errors.push('blocks must be an array of at most 50 blocks');
                else
                        m.blocks.forEach((b, i) => checkBlock(b, i, errors));
        }
        return errors;
}

// relaywatch's webhook: the signature, the timestamp, then the alert itself.
function checkWebhookSignature(req, raw) {
        const ts = req.headers['x-relaywatch-timestamp'];
        const sig = req.headers['x-relaywatch-signature'];
        if (typeof ts !== 'string' || !/^\d+$/.test(ts))
                return ['X-Relaywatch-Timestamp is missing or not unix seconds'];
        if (Math.abs(Date.now() / 1000 - Number(ts)) > 300)
                return ['X-Relaywatch-Timestamp is more than 300 s from now'];
        if (typeof sig !== 'string' || !/^v1=[0-9a-f]{64}$/.test(sig))
                return ['X-Relaywatch-Signature is missing or not v1=<64 lowercase hex digits>'];
        if (secret === undefined)
                return []; // no --webhook-secret: the form is all that can be checked
        const want = crypto.createHmac('sha256', secret)
                .update(Buffer.concat([Buffer.from(`${ts}.`), raw])).digest();
        if (!crypto.timingSafeEqual(want, Buffer.from(sig.slice(3), 'hex')))
                return ['X-Relaywatch-Signature does not match the body'];
        return [];
}

function checkWebhookBody(a) {
        const errors = [];
        if (!isObject(a))
                return ['the body is not a JSON object'];
        for (const k of ['name', 'dedup_key', 'summary', 'source'])
                checkString(a[k], k, errors, {min: k === 'summary' ? 0 : 1});
        if (!['INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(a.severity))
                errors.push("'severity' is not INFO, WARNING, ERROR or CRITICAL");
        if (!['firing', 'resolved'].includes(a.state))
                errors.push("'state' is not firing or resolved");
        if (!['incident', 'test', 'report'].includes(a.purpose))
                errors.push("'purpose' is not incident, test or report");
        for (const k of ['opened_ms', 'at_ms'])
                if (!Number.isInteger(a[k]))
                        errors.push(`'${k}' is not a whole number`);
        return errors;
}

// ---------------------------------------------------------------- answers

function kindOf(path) {
        if (path === '/v2/enqueue')
                return 'pagerduty';
        if (path.startsWith('/slack/'))
                return 'slack';
        if (path.startsWith('/webhook/'))
                return 'webhook';
        return null;
}

function parseJson(raw) {
        try {
                return {ok: true, value: JSON.parse(raw.toString('utf8'))};
        } catch {
                return {ok: false, value: raw.toString('utf8')};
        }
}

// What a valid request is answered and what an invalid one is.
function judge(kind, req, raw) {
        const json = parseJson(raw);
        const errors = [];
        if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
                errors.push('Content-Type is not application/json');
        if (!json.ok)
                errors.push('the body is not JSON');
        if (kind === 'pagerduty') {
                if (json.ok)
                        errors.push(...checkPagerDuty(json.value));
                const dedup = json.ok && typeof json.value?.dedup_key === 'string'
                        ? json.value.dedup_key : crypto.randomUUID().replaceAll('-', '');
                const answer = errors.length === 0
                        ? {status: 'success', message: 'Event processed', dedup_key: dedup}
                        : {status: 'invalid event', message: 'Event object is invalid', errors};
                return {errors, body: json.value, status: errors.length ? 400 : 202,
                        type: 'application/json', answer: JSON.stringify(answer)};
        }
        if (kind === 'slack') {
                if (json.ok)
                        errors.push(...checkSlack(json.value));
                return {errors, body: json.value, status: errors.length ? 400 : 200,
                        type: 'text/plain', answer: errors.length ? 'invalid_payload' : 'ok'};
        }
        const sigErrors = checkWebhookSignature(req, raw);
        if (json.ok)
                errors.push(...checkWebhookBody(json.value));
        errors.unshift(...sigErrors);
        const status = sigErrors.length ? 401 : errors.length ? 400 : 200;
        return {errors, body: json.value, status, type: 'application/json',
                answer: JSON.stringify(errors.length ? {error: errors[0]} : {ok: true})};
}

function ruleFor(path) {
        let best = null;
        for (const r of rules)
                if (path.startsWith(r.path_prefix) &&
                    (best === null || r.path_prefix.length > best.path_prefix.length))
                        best = r;
        if (best !== null && best.count !== undefined && --best.count <= 0)
                rules = rules.filter((r) => r !== best);
        return best;
}

function forcedAnswer(kind, status) {
        if (kind === 'pagerduty' && status === 429)
                return JSON.stringify({status: 'throttle event',
                        message: 'Requests for this service are arriving too quickly.'});
        if (kind === 'slack')
                return status === 429 ? 'rate_limited'
                        : status >= 500 ? 'internal_error' : 'no_service';
        return JSON.stringify({error: `forced status ${status}`});
}

function record(entry) {
        log.push(entry);
        fs.appendFileSync(args.log, JSON.stringify(entry) + '\n');
}

function send(res, status, type, answer, headers = {}) {
        res.writeHead(status, {'Content-Type': type, ...headers});
        res.end(answer);
}

function control(raw, res) {
        const json = parseJson(raw);
        const r = json.value;
        if (!json.ok || !isObject(r) || typeof r.path_prefix !== 'string' ||
            !['ok', 'status', 'hang', 'close'].includes(r.mode) ||
            (r.mode === 'status' && !Number.isInteger(r.status)) ||
            (r.count !== undefined && !(Number.isInteger(r.count) && r.count > 0)))
                return send(res, 400, 'application/json', JSON.stringify({error:
                        'want {"path_prefix", "mode": ok|status|hang|close, "status", ' +
                        '"retry_after", "body", "count"}'}));
        rules = rules.filter((x) => x.path_prefix !== r.path_prefix);
        if (r.mode !== 'ok' || r.count !== undefined)
                rules.push({...r});
        send(res, 200, 'application/json', JSON.stringify({ok: true, rules}));
}

function serve(req, res, raw) {
        const path = new URL(req.url, 'http://x').pathname;
        if (req.method === 'GET' && path === '/_health')
                return send(res, 200, 'application/json', '{"ok":true}');
        if (req.method === 'GET' && path === '/_log')
                return send(res, 200, 'application/json', JSON.stringify(log));
        if (req.method === 'POST' && path === '/_control')
                return control(raw, res);
        const kind = kindOf(path);
        if (kind === null || req.method !== 'POST') {
                record({t: new Date().toISOString(), path, kind: 'unknown', valid: false,
                        errors: [`${req.method} ${path} is not served here`], status: 404,
                        body: parseJson(raw).value});
                return send(res, 404, 'text/plain', 'not found');
        }
        const v = judge(kind, req, raw);
        const rule = ruleFor(path);
        const entry = {t: new Date().toISOString(), path, kind, valid: v.errors.length === 0,
                errors: v.errors, status: v.status, body: v.body};
        if (rule === null || rule.mode === 'ok') {
                record(entry);
                return send(res, v.status, v.type, v.answer);
        }
        if (rule.mode === 'hang') {
                record({...entry, status: 0, control: 'hang'});
                hung.add(res);
                res.on('close', () => hung.delete(res));
                return;
        }
        if (rule.mode === 'close') {
                record({...entry, status: 0, control: 'close'});
                return req.socket.destroy();
        }
        record({...entry, status: rule.status, control: 'status'});
        send(res, rule.status, kind === 'slack' ? 'text/plain' : 'application/json',
                rule.body ?? forcedAnswer(kind, rule.status),
                rule.retry_after !== undefined ? {'Retry-After': String(rule.retry_after)} : {});
}

const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
                try {
                        serve(req, res, Buffer.concat(chunks));
                } catch (e) {
                        process.stderr.write(`alert_receiver: ${e.stack}\n`);
                        send(res, 500, 'text/plain', 'stand-in error');
                }
        });
});

fs.writeFileSync(args.log, '', {flag: 'a'});
server.listen(Number(args.port), '127.0.0.1', () => {
        process.stdout.write(`listening ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
        process.on(sig, () => {
                for (const res of hung)
                        res.destroy();
                server.close(() => process.exit(0));
                server.closeAllConnections();
                setTimeout(() => process.exit(0), 1000).unref();
        });
