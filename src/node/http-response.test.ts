import { describe, expect, it } from 'vitest';
import { HttpParseError, HttpResponseReader } from './http-response.js';

function read(chunks: (string | Buffer)[], maxBodyBytes = 1000, eof = true) {
  const reader = new HttpResponseReader({ maxBodyBytes });
  let done = false;
  for (const c of chunks) {
    done = reader.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'));
    if (done) break;
  }
  if (!done && eof) reader.end();
  return reader.result();
}

function splitEvery(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

describe('HttpResponseReader', () => {
  it('reads a Content-Length body, in any chunking', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
    for (const size of [1, 3, 7, raw.length]) {
      const r = read(splitEvery(raw, size));
      expect(r).toMatchObject({ status: 200, reason: 'OK', truncated: false });
      expect(r.headers['content-type']).toBe('text/plain');
      expect(r.body.toString()).toBe('hello');
    }
  });

  it('completes without waiting for the close when Content-Length is met', () => {
    const reader = new HttpResponseReader({ maxBodyBytes: 100 });
    expect(reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))).toBe(true);
  });

  it('reads a chunked body with extensions and trailers', () => {
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n';
    for (const size of [1, 4, raw.length]) {
      expect(read(splitEvery(raw, size), 1000, false).body.toString()).toBe('hello world');
    }
  });

  it('accepts bare LF line ends', () => {
    const r = read(['HTTP/1.1 200 OK\nContent-Length: 2\n\nok']);
    expect(r.body.toString()).toBe('ok');
    const c = read(['HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n'], 100, false);
    expect(c.body.toString()).toBe('ok');
  });

  it('reads to the close when there is no length', () => {
    expect(read(['HTTP/1.0 200 OK\r\n\r\nabc', 'def']).body.toString()).toBe('abcdef');
  });

  it('stops at the body cap and says so', () => {
    const big = 'x'.repeat(5000);
    const r1 = read([`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${big}`], 100, false);
    expect(r1).toMatchObject({ truncated: true });
    expect(r1.body.length).toBe(100);
    const r2 = read([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n${big}`], 100, false);
    expect(r2.body.length).toBe(100);
    expect(r2.truncated).toBe(true);
    const exact = read(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'y'.repeat(100)], 100, false);
    expect(exact.truncated).toBe(false);
  });

  it('skips interim responses and keeps redirects as they are', () => {
    const r = read([
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 301 Moved\r\nLocation: https://x.example/\r\nContent-Length: 0\r\n\r\n',
    ]);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://x.example/');
  });

  it('joins repeated headers', () => {
    const r = read(['HTTP/1.1 204 No Content\r\nVia: a\r\nVIA: b\r\n\r\n']);
    expect(r.headers.via).toBe('a, b');
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', 'malformed-status'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\n\r\n', 'malformed-header'],
    ['folded header', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'malformed-header'],
    ['two lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n', 'malformed-header'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'malformed-chunk'],
    [
      'chunk without CRLF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n',
      'malformed-chunk',
    ],
    ['huge head', `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 'header-too-large'],
    ['many headers', `HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(200)}\r\n`, 'too-many-headers'],
    ['early close', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'incomplete'],
    ['no head', 'HTTP/1.1 200 OK\r\n', 'incomplete'],
  ])('rejects %s', (_name, raw, code) => {
    try {
      read([raw]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpParseError);
      expect((err as HttpParseError).code).toBe(code);
    }
  });
});
