#!/usr/bin/env node
// smtp_sink.mjs --port PORT --dir DIR [--fail-next N CODE]
//
// An SMTP server on 127.0.0.1:PORT (0: a free port) that keeps what it is
// sent, for the email receiver's tests. It speaks what libcurl needs: the
// 220 greeting, EHLO (8BITMIME, SIZE, AUTH PLAIN LOGIN; no STARTTLS), HELO,
// AUTH PLAIN and LOGIN (any credentials), MAIL FROM, RCPT TO, DATA (with
// dot-unstuffing), RSET, NOOP, QUIT. Prints "listening PORT" on stdout once
// it accepts connections.
//
// Each message accepted is written to DIR/NNNN.eml, and every DATA end adds
// a line to DIR/index.jsonl: {n, file, from, rcpt, user, bytes, subject,
// valid, errors, status}. A message is checked strictly: CRLF line ends
// only, no line over 998 bytes, headers in ASCII, Date, From, To, Subject
// and Message-ID present once each, Date parseable (RFC 5322), Message-ID
// <left@right>; `subject` is decoded from RFC 2047 encoded words.
//
// --fail-next N CODE answers CODE (e.g. 451 or 554) to the next N DATA ends
// instead of 250; a file DIR/fail-next holding "N CODE" does the same at
// run time (it is read and removed at the next DATA end).
//
// No dependencies beyond Node itself.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

function usage(msg) {
        process.stderr.write(`smtp_sink: ${msg}\n` +
                'usage: smtp_sink.mjs --port PORT --dir DIR [--fail-next N CODE]\n');
        process.exit(64);
}

const args = {};
for (let i = 2; i < process.argv.length;) {
        const k = process.argv[i];
        if (k === '--fail-next') {
                args.failN = Number(process.argv[i + 1]);
                args.failCode = Number(process.argv[i + 2]);
                i += 3;
        } else if (k === '--port' || k === '--dir') {
                args[k.slice(2)] = process.argv[i + 1];
                i += 2;
        } else {
                usage(`bad argument ${k}`);
        }
}
if (args.port === undefined || !/^\d+$/.test(args.port) || !args.dir)
        usage('--port and --dir are required');
let failN = 0, failCode = 0;
if (args.failN !== undefined) {
        if (!Number.isInteger(args.failN) || args.failN < 0 ||
            !(args.failCode >= 400 && args.failCode <= 599))
                usage('--fail-next wants a count and a code in 400..599');
        failN = args.failN;
        failCode = args.failCode;
}
fs.mkdirSync(args.dir, {recursive: true});
let count = 0;
const sockets = new Set();

// ---------------------------------------------------------------- checks

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const DATE = new RegExp(`^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\\d{1,2} (?:${MONTHS}) \\d{4} ` +
        '\\d{2}:\\d{2}(?::\\d{2})? [+-]\\d{4}$');

// RFC 2047 encoded words (B and Q) in a header value, decoded.
function decodeWords(v) {
        return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g,
                (_, charset, enc, text) => {
                        const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64')
                                : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
                                        (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
                        return bytes.toString(/^utf-?8$/i.test(charset) ? 'utf8' : 'latin1');
                });
}

// The header fields of a message (unfolded), and what is wrong with their form.
function headerFields(head, errors) {
        const fields = [];
        for (const line of head.split('\r\n')) {
                if (/^[ \t]/.test(line) && fields.length > 0)
                        fields[fields.length - 1].value += line;
                else if (/^[!-9;-~]+:/.test(line))
                        fields.push({name: line.slice(0, line.indexOf(':')).toLowerCase(),
                                value: line.slice(line.indexOf(':') + 1).trim()});
                else
                        errors.push('header line is neither a field nor a fold: ' +
                                JSON.stringify(line.slice(0, 40)));
        }
        return fields;
}

function checkMessage(buf) {
        const errors = [];
        const text = buf.toString('latin1'); // byte for byte
        if (/[^\r]\n|^\n/.test(text) || /\r(?!\n)/.test(text))
                errors.push('a line does not end in CRLF');
        const lines = text.split('\r\n');
        lines.forEach((l, i) => {
                if (l.length > 998)
                        errors.push(`line ${i + 1} is ${l.length} bytes, over 998`);
        });
        const end = text.indexOf('\r\n\r\n');
        if (end < 0)
                errors.push('no empty line between the header and the body');
        const head = end < 0 ? text : text.slice(0, end);
        if (/[^\x00-\x7f]/.test(head))
                errors.push('the header has bytes that are not ASCII');
        const fields = headerFields(head, errors);
        const get = (name) => fields.filter((f) => f.name === name);
        for (const name of ['date', 'from', 'to', 'subject', 'message-id']) {
                const n = get(name).length;
                if (n !== 1)
                        errors.push(`${name} appears ${n} times, not once`);
        }
        const date = get('date')[0]?.value;
        if (date !== undefined && (!DATE.test(date) || Number.isNaN(Date.parse(date))))
                errors.push(`Date is not an RFC 5322 date: ${date}`);
        const id = get('message-id')[0]?.value;
        if (id !== undefined && !/^<[^<>@\s]+@[^<>@\s]+>$/.test(id))
                errors.push(`Message-ID is not <left@right>: ${id}`);
        const subject = get('subject')[0]?.value;
        return {errors, subject: subject === undefined ? null : decodeWords(subject)};
}

// ---------------------------------------------------------------- the session

// The failure a DATA end gets, if any: --fail-next, or DIR/fail-next.
function takeFailure() {
        const file = path.join(args.dir, 'fail-next');
        if (fs.existsSync(file)) {
                const [n, code] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
                fs.rmSync(file);
                if (Number.isInteger(n) && code >= 400 && code <= 599) {
                        failN = n;
                        failCode = code;
                }
        }
        if (failN <= 0)
                return 0;
        failN--;
        return failCode;
}

function store(s, data) {
        const n = ++count;
        const {errors, subject} = checkMessage(data);
        const failure = takeFailure();
        const file = `${String(n).padStart(4, '0')}.eml`;
        if (!failure)
                fs.writeFileSync(path.join(args.dir, file), data);
        fs.appendFileSync(path.join(args.dir, 'index.jsonl'), JSON.stringify({n,
                file: failure ? null : file, from: s.from, rcpt: s.rcpt, user: s.user,
                bytes: data.length, subject, valid: errors.length === 0, errors,
                status: failure || 250}) + '\n');
        return failure ? `${failure} ${failure < 500 ? '4.3.0 try again later' : '5.7.1 refused'}`
                : `250 2.0.0 OK queued as ${String(n).padStart(4, '0')}`;
}

// "<addr>" from "FROM:<addr> PARAMS"; null when it is not that.
function pathArg(rest, word) {
        const m = new RegExp(`^${word}:\\s*<([^<>]*)>(?:\\s+.*)?$`, 'i').exec(rest);
        return m ? m[1] : null;
}

function command(s, line, reply) {
        if (s.auth) // the rest of an AUTH exchange
                return s.auth(line);
        const sp = line.indexOf(' ');
        const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
        const rest = sp < 0 ? '' : line.slice(sp + 1);
        switch (verb) {
        case 'EHLO':
                s.hello = true;
                return reply('250-relaywatch-sink\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n' +
                        '250 AUTH PLAIN LOGIN');
        case 'HELO':
                s.hello = true;
                return reply('250 relaywatch-sink');
        case 'AUTH':
                return auth(s, rest, reply);
        case 'MAIL': {
                const from = pathArg(rest, 'FROM');
                if (!s.hello)
                        return reply('503 5.5.1 EHLO first');
                if (from === null)
                        return reply('501 5.5.4 MAIL FROM:<address> expected');
                Object.assign(s, {from, rcpt: []});
                return reply('250 2.1.0 OK');
        }
        case 'RCPT': {
                const to = pathArg(rest, 'TO');
                if (s.from === null)
                        return reply('503 5.5.1 MAIL first');
                if (!to)
                        return reply('501 5.5.4 RCPT TO:<address> expected');
                s.rcpt.push(to);
                return reply('250 2.1.5 OK');
        }
        case 'DATA':
                if (s.rcpt.length === 0)
                        return reply('503 5.5.1 RCPT first');
                s.data = [];
                return reply('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
                Object.assign(s, {from: null, rcpt: []});
                return reply('250 2.0.0 OK');
        case 'NOOP':
                return reply('250 2.0.0 OK');
        case 'QUIT':
                reply('221 2.0.0 Bye');
                return s.socket.end();
        default:
                return reply('502 5.5.2 Command not implemented');
        }
}

// AUTH PLAIN [initial] or AUTH LOGIN: any credentials are good; the user is kept.
function auth(s, rest, reply) {
        const [mech, initial] = rest.split(' ');
        const done = (user) => {
                s.auth = null;
                s.user = user;
                reply('235 2.7.0 Authentication successful');
        };
        if (/^PLAIN$/i.test(mech)) {
                const plain = (b64) =>
                        done(Buffer.from(b64, 'base64').toString('utf8').split('\0')[1] ?? '');
                if (initial !== undefined)
                        return plain(initial);
                s.auth = plain;
                return reply('334 ');
        }
        if (/^LOGIN$/i.test(mech)) {
                s.auth = (b64) => {
                        const user = Buffer.from(b64, 'base64').toString('utf8');
                        s.auth = () => done(user);
                        reply('334 UGFzc3dvcmQ6'); // "Password:"
                };
                return reply('334 VXNlcm5hbWU6'); // "Username:"
        }
        return reply('504 5.5.4 Unrecognized authentication type');
}

// DATA lines until "."; a line starting with "." loses that dot (RFC 5321 4.5.2).
function dataLine(s, line, reply) {
        if (line.toString('latin1') === '.') {
                const message = Buffer.concat(s.data);
                s.data = null;
                reply(store(s, message));
                Object.assign(s, {from: null, rcpt: []});
                return;
        }
        const body = line.length > 0 && line[0] === 0x2e ? line.subarray(1) : line;
        s.data.push(body, Buffer.from('\r\n'));
}

const server = net.createServer((socket) => {
        const s = {socket, hello: false, from: null, rcpt: [], user: null, data: null, auth: null};
        let pending = Buffer.alloc(0);
        const reply = (text) => socket.write(`${text}\r\n`);
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('data', (chunk) => {
                pending = Buffer.concat([pending, chunk]);
                let at;
                while ((at = pending.indexOf('\r\n')) >= 0) {
                        const line = pending.subarray(0, at);
                        pending = pending.subarray(at + 2);
                        if (s.data !== null)
                                dataLine(s, line, reply);
                        else
                                command(s, line.toString('utf8'), reply);
                }
        });
        socket.on('error', () => {});
        reply('220 relaywatch-sink ESMTP ready');
});

server.listen(Number(args.port), '127.0.0.1', () => {
        process.stdout.write(`listening ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
        process.on(sig, () => {
                for (const socket of sockets)
                        socket.destroy();
                server.close(() => process.exit(0));
        });
