#!/usr/bin/env node
// Load generator for bench/serve: N keep-alive TLS connections, one request in flight on each,
// GET of one path for a fixed time; prints {requests, seconds, rps, p50Ms, p99Ms} as JSON.
// Usage: node bench/serve-load.mjs PORT SERVERNAME CAFILE CONNECTIONS SECONDS PATH
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const [port, servername, caFile, connections, seconds, path] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const request = Buffer.from(
  `GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nUser-Agent: mta-sts-bench\r\n\r\n`,
);
const latencies = [];
let errors = 0;
let reconnects = 0;
let stopping = false;
const started = performance.now();
const endAt = started + Number(seconds) * 1000;

function connection() {
  return new Promise((resolveDone) => {
    let buf = Buffer.alloc(0);
    let sentAt = 0;
    const socket = tls.connect({
      host: '127.0.0.1',
      port: Number(port),
      servername,
      ca,
      minVersion: 'TLSv1.2',
    });
    const send = () => {
      if (performance.now() >= endAt) {
        stopping = true;
        socket.end();
        return;
      }
      sentAt = performance.now();
      socket.write(request);
    };
    socket.on('secureConnect', send);
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const headerEnd = buf.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const head = buf.subarray(0, headerEnd).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const total = headerEnd + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        buf = buf.subarray(total);
        if (!head.startsWith('HTTP/1.1 200')) errors++;
        latencies.push(performance.now() - sentAt);
        if (/\r\nconnection:\s*close/i.test(head)) {
          socket.destroy();
          return;
        }
        send();
      }
    });
    socket.on('error', () => {
      errors++;
    });
    socket.on('close', () => {
      if (!stopping && performance.now() < endAt) {
        reconnects++;
        connection().then(resolveDone);
      } else resolveDone();
    });
  });
}

await Promise.all(Array.from({ length: Number(connections) }, () => connection()));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: q(0.5), p99Ms: q(0.99), errors, reconnects })}\n`,
);
