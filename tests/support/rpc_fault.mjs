#!/usr/bin/env node
// rpc_fault.mjs MODE UPSTREAM_URL [PORT]
//
// A JSON-RPC endpoint in front of UPSTREAM_URL that misbehaves the way
// providers do, for the failover, quorum and fault tests and the demo. It
// listens on 127.0.0.1:PORT (0 or absent: a free port) and, by MODE:
//   pass        forwards every request untouched (a healthy provider)
//   hang        accepts the connection, reads the request, never answers
//   garbage     answers 200 with a body that is not JSON
//   truncate    answers 200 with a Content-Length longer than the half of
//               the upstream's reply it sends, then closes the connection
//   wrongchain  forwards, but answers eth_chainId with 0x1 (an endpoint of
//               another chain)
//   lie         forwards, but answers every balanceOf(address) eth_call
//               (selector 0x70a08231), and every balanceOf inside a
//               Multicall3 aggregate3 (0x82ad56cb), with 32 tokens (32 *
//               10^18). A bridge was once paused because one bad RPC read
//               said its lockbox held 32 tokens instead of 700 thousand.
//
// The mode can be changed while it runs: POST /__mode with the new mode as
// the body (curl --data hang http://127.0.0.1:PORT/__mode); GET /__mode
// says the current one. Switching away from hang answers nothing that hung:
// those requests stay hung until their client gives up, as with a provider.
//
// Prints "listening on PORT" on stdout once it accepts connections, and one
// line per request served (or lie told) on stderr. No dependencies beyond
// Node itself.
import http from 'node:http';

const MODES = ['pass', 'hang', 'garbage', 'truncate', 'wrongchain', 'lie'];
const [initialMode, upstream, portArg] = process.argv.slice(2);
if (!MODES.includes(initialMode) || !upstream) {
        process.stderr.write(`usage: rpc_fault.mjs ${MODES.join('|')} UPSTREAM_URL [PORT]\n`);
        process.exit(64);
}
const port = portArg === undefined ? 0 : Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`rpc_fault: bad port ${portArg}\n`);
        process.exit(64);
}
let mode = initialMode;
let served = 0;
let lies = 0;
const hung = [];

const BALANCE_OF = '0x70a08231';
const AGGREGATE3 = '0x82ad56cb';
const LIE = '0x' + (32n * 10n ** 18n).toString(16).padStart(64, '0');

async function forward(body) {
        const r = await fetch(upstream, {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body,
        });
        return {status: r.status, text: await r.text()};
}

const asList = (x) => (Array.isArray(x) ? x : [x]);

// eth_chainId answered as chain 1, in a single request or a batch.
function otherChain(requests, responses) {
        const ids = new Set(requests.filter((r) => r && r.method === 'eth_chainId')
                .map((r) => JSON.stringify(r.id)));
        for (const r of responses)
                if (r && ids.has(JSON.stringify(r.id)) && 'result' in r)
                        r.result = '0x1';
}

// The call data of an eth_call request, lower-cased, or '' when it is not one.
function callData(req) {
        if (req === null || typeof req !== 'object' || req.method !== 'eth_call')
                return '';
        const tx = Array.isArray(req.params) ? req.params[0] : null;
        if (tx === null || typeof tx !== 'object')
                return '';
        const data = tx.input ?? tx.data ?? '';
        return typeof data === 'string' ? data.toLowerCase() : '';
}

// ABI words of hex `h` (no 0x): the word at byte `at` as a Number.
const wordAt = (h, at) => Number(BigInt('0x' + h.slice(2 * at, 2 * at + 64)));

// The indexes of the balanceOf calls in aggregate3 calldata `data`.
function balanceOfCalls(data) {
        const h = data.slice(2 + 8); // past 0x and the selector
        const base = wordAt(h, 0) + 32;
        const n = wordAt(h, base - 32);
        const found = [];
        for (let i = 0; i < n; i++) {
                const tuple = base + wordAt(h, base + 32 * i);
                const cd = tuple + wordAt(h, tuple + 64);
                const len = wordAt(h, cd);
                if (len >= 4 && '0x' + h.slice(2 * (cd + 32), 2 * (cd + 36)) === BALANCE_OF)
                        found.push(i);
        }
        return found;
}

// aggregate3's result `hex` with the returnData of results `which` replaced by the lie.
function lieInAggregate(hex, which) {
        const h = hex.slice(2);
        const base = wordAt(h, 0) + 32;
        let out = h;
        for (const i of which) {
                const tuple = base + wordAt(h, base + 32 * i);
                const rd = tuple + wordAt(h, tuple + 32);
                if (wordAt(h, tuple) !== 1 || wordAt(h, rd) !== 32)
                        continue;
                out = out.slice(0, 2 * (rd + 32)) + LIE.slice(2) + out.slice(2 * (rd + 64));
                lies++;
        }
        return '0x' + out;
}

// Replaces the result of each response whose request was a balanceOf call,
// and the balanceOf results inside each aggregate3.
function lieAboutBalances(requests, responses) {
        const lying = new Set();
        const aggregates = new Map();
        for (const r of requests) {
                const data = callData(r);
                if (r === null || typeof r !== 'object' || r.id === undefined)
                        continue;
                if (data.startsWith(BALANCE_OF))
                        lying.add(JSON.stringify(r.id));
                else if (data.startsWith(AGGREGATE3))
                        aggregates.set(JSON.stringify(r.id), balanceOfCalls(data));
        }
        for (const resp of responses) {
                if (resp === null || typeof resp !== 'object' || !('result' in resp))
                        continue;
                const id = JSON.stringify(resp.id);
                if (aggregates.has(id) && typeof resp.result === 'string' && resp.result.length > 2) {
                        const before = lies;
                        resp.result = lieInAggregate(resp.result, aggregates.get(id));
                        if (lies > before)
                                process.stderr.write(`rpc_fault lie: balanceOf answered with 32 tokens, ${lies - before} inside aggregate3 (lie ${lies})\n`);
                        continue;
                }
                if (!lying.has(id))
                        continue;
                resp.result = LIE;
                lies++;
                process.stderr.write(`rpc_fault lie: balanceOf answered with 32 tokens (lie ${lies})\n`);
        }
}

function reply(res, status, body) {
        res.writeHead(status, {'Content-Type': 'application/json'});
        res.end(body);
}

// The upstream's answer with `rewrite(requests, responses)` applied, when
// both the request and the answer are JSON of the same shape.
function rewritten(body, answer, rewrite) {
        let requests, responses;
        try {
                requests = JSON.parse(body);
                responses = JSON.parse(answer);
        } catch {
                return answer;
        }
        if (Array.isArray(requests) !== Array.isArray(responses))
                return answer;
        rewrite(asList(requests), asList(responses));
        return JSON.stringify(responses);
}

async function serve(body, res) {
        if (mode === 'hang') {
                hung.push(res); // kept open, never answered
                return;
        }
        if (mode === 'garbage') {
                reply(res, 200, '<html>502 Bad Gateway</html> {"jsonrpc":');
                return;
        }
        const {status, text} = await forward(body);
        if (mode === 'truncate') {
                const half = text.slice(0, Math.max(1, text.length >> 1));
                res.writeHead(200, {'Content-Type': 'application/json',
                        'Content-Length': Buffer.byteLength(text)});
                res.write(half, () => res.socket.destroy());
                return;
        }
        if (mode === 'wrongchain')
                reply(res, status, rewritten(body, text, otherChain));
        else if (mode === 'lie')
                reply(res, status, rewritten(body, text, lieAboutBalances));
        else
                reply(res, status, text);
}

// POST /__mode MODE switches the mode; GET /__mode says it.
function control(req, body, res) {
        if (req.method === 'POST') {
                const want = body.trim();
                if (!MODES.includes(want)) {
                        res.writeHead(400, {'Content-Type': 'text/plain'});
                        res.end(`unknown mode "${want}" (${MODES.join(', ')})\n`);
                        return;
                }
                process.stderr.write(`rpc_fault: mode ${mode} -> ${want}\n`);
                mode = want;
        }
        res.writeHead(200, {'Content-Type': 'text/plain'});
        res.end(`${mode}\n`);
}

const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', async () => {
                const body = Buffer.concat(chunks).toString('utf8');
                if (req.url === '/__mode') {
                        control(req, body, res);
                        return;
                }
                served++;
                if (mode !== 'pass' && mode !== 'lie')
                        process.stderr.write(`rpc_fault ${mode}: request ${served}\n`);
                try {
                        await serve(body, res);
                } catch (e) {
                        reply(res, 502, JSON.stringify({jsonrpc: '2.0', id: null,
                                error: {code: -32603, message: `rpc_fault: upstream: ${e.message}`}}));
                }
        });
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0; // a hung request is never timed out by Node itself
server.listen(port, '127.0.0.1', () => {
        process.stdout.write(`listening on ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
        process.on(sig, () => process.exit(0));
