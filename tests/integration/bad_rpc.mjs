#!/usr/bin/env node
// bad_rpc.mjs MODE UPSTREAM_URL [PORT]
//
// A JSON-RPC endpoint that misbehaves the way providers do, for the
// failover tests. It listens on 127.0.0.1:PORT (0 or absent: a free port)
// and, by MODE:
//   hang        accepts the connection, reads the request, never answers
//   garbage     answers 200 with a body that is not JSON
//   truncate    answers 200 with a Content-Length longer than the half of
//               the upstream's reply it sends, then closes the connection
//   wrongchain  forwards to UPSTREAM_URL but answers eth_chainId with 0x1
//               (an endpoint of another chain)
// Prints "listening on PORT" on stdout once it accepts connections, and one
// line per request served on stderr. No dependencies beyond Node itself.
import http from 'node:http';

const MODES = ['hang', 'garbage', 'truncate', 'wrongchain'];
const [mode, upstream, portArg] = process.argv.slice(2);
if (!MODES.includes(mode) || !upstream) {
        process.stderr.write(`usage: bad_rpc.mjs ${MODES.join('|')} UPSTREAM_URL [PORT]\n`);
        process.exit(64);
}
const port = portArg === undefined ? 0 : Number(portArg);
let served = 0;
const hung = [];

async function forward(body) {
        const r = await fetch(upstream, {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body,
        });
        return r.text();
}

// eth_chainId answered as chain 1, in a single request or a batch.
function otherChain(body, text) {
        const req = JSON.parse(body);
        const res = JSON.parse(text);
        const ids = new Set((Array.isArray(req) ? req : [req])
                .filter((r) => r && r.method === 'eth_chainId')
                .map((r) => JSON.stringify(r.id)));
        for (const r of Array.isArray(res) ? res : [res])
                if (r && ids.has(JSON.stringify(r.id)) && 'result' in r)
                        r.result = '0x1';
        return JSON.stringify(res);
}

const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', async () => {
                const body = Buffer.concat(chunks).toString('utf8');
                served++;
                process.stderr.write(`bad_rpc ${mode}: request ${served}\n`);
                try {
                        if (mode === 'hang') {
                                hung.push(res); // kept open, never answered
                                return;
                        }
                        if (mode === 'garbage') {
                                res.writeHead(200, {'Content-Type': 'application/json'});
                                res.end('<html>502 Bad Gateway</html> {"jsonrpc":');
                                return;
                        }
                        const text = await forward(body);
                        if (mode === 'truncate') {
                                const half = text.slice(0, Math.max(1, text.length >> 1));
                                res.writeHead(200, {'Content-Type': 'application/json',
                                        'Content-Length': Buffer.byteLength(text)});
                                res.write(half, () => res.socket.destroy());
                                return;
                        }
                        res.writeHead(200, {'Content-Type': 'application/json'});
                        res.end(otherChain(body, text));
                } catch (e) {
                        res.writeHead(502, {'Content-Type': 'application/json'});
                        res.end(JSON.stringify({jsonrpc: '2.0', id: null,
                                error: {code: -32603, message: `bad_rpc: ${e.message}`}}));
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
