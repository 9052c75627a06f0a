#!/usr/bin/env node
// lying_rpc.mjs UPSTREAM_URL [PORT]
//
// A JSON-RPC endpoint that lies about balances, for the quorum tests: it
// listens on 127.0.0.1:PORT (0 or absent: a free port), forwards every
// request (single or batch) to UPSTREAM_URL, and rewrites the result of every
// eth_call whose data starts with the balanceOf(address) selector 0x70a08231
// to 32 tokens (32 * 10^18, one 32-byte word), and inside every Multicall3
// aggregate3 call (selector 0x82ad56cb) the returnData of each balanceOf
// among its calls the same way. Everything else passes through untouched. A bridge was once paused because one bad RPC read said
// its lockbox held 32 tokens instead of 700 thousand.
//
// Prints "listening on PORT" on stdout once it accepts connections, and one
// line per rewritten call on stderr. No dependencies beyond Node itself.
import http from 'node:http';

const BALANCE_OF = '0x70a08231';
const AGGREGATE3 = '0x82ad56cb';
const LIE = '0x' + (32n * 10n ** 18n).toString(16).padStart(64, '0');

const [upstream, portArg] = process.argv.slice(2);
if (!upstream) {
        process.stderr.write('usage: lying_rpc.mjs UPSTREAM_URL [PORT]\n');
        process.exit(64);
}
const port = portArg === undefined ? 0 : Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`lying_rpc: bad port ${portArg}\n`);
        process.exit(64);
}

let lies = 0;

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
function rewrite(requests, responses) {
        const lying = new Set();
        const aggregates = new Map();
        for (const r of requests) {
                const data = callData(r);
                if (r.id === undefined)
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
                                process.stderr.write(`lying_rpc: balanceOf answered with 32 tokens, ${lies - before} inside aggregate3 (lie ${lies})\n`);
                        continue;
                }
                if (!lying.has(id))
                        continue;
                resp.result = LIE;
                lies++;
                process.stderr.write(`lying_rpc: balanceOf answered with 32 tokens (lie ${lies})\n`);
        }
}

function reply(res, status, body) {
        res.writeHead(status, {'Content-Type': 'application/json'});
        res.end(body);
}

const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', async () => {
                const body = Buffer.concat(chunks).toString('utf8');
                let parsed;
                try {
                        parsed = JSON.parse(body);
                } catch {
                        reply(res, 400, JSON.stringify({jsonrpc: '2.0', id: null,
                                error: {code: -32700, message: 'parse error'}}));
                        return;
                }
                let upstreamRes;
                try {
                        upstreamRes = await fetch(upstream, {
                                method: 'POST',
                                headers: {'Content-Type': 'application/json'},
                                body,
                        });
                } catch (e) {
                        reply(res, 502, JSON.stringify({jsonrpc: '2.0', id: null,
                                error: {code: -32603, message: `upstream: ${e.message}`}}));
                        return;
                }
                const text = await upstreamRes.text();
                let answer;
                try {
                        answer = JSON.parse(text);
                } catch {
                        reply(res, upstreamRes.status, text);
                        return;
                }
                if (Array.isArray(parsed) && Array.isArray(answer))
                        rewrite(parsed, answer);
                else if (!Array.isArray(parsed) && !Array.isArray(answer))
                        rewrite([parsed], [answer]);
                reply(res, upstreamRes.status, JSON.stringify(answer));
        });
});

server.listen(port, '127.0.0.1', () => {
        process.stdout.write(`listening on ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
        process.on(sig, () => process.exit(0));
