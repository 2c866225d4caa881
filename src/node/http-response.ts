// A small, careful HTTP/1.1 response reader (RFC 9112) for the policy fetch: it takes bytes as
// they arrive and enforces limits on the head, the header count and the body.

export interface HttpResponseLimits {
  /** Status line plus headers, default 16384 bytes. */
  maxHeadBytes?: number;
  /** Default 100 header lines. */
  maxHeaders?: number;
  /** Body cap; reading stops there with `truncated: true`. */
  maxBodyBytes: number;
}

export interface HttpResponse {
  status: number;
  reason: string;
  /** Names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
}

export class HttpParseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HttpParseError';
    this.code = code;
  }
}

type Mode = 'length' | 'chunked' | 'close' | 'none';
type ChunkState = 'size' | 'data' | 'data-crlf' | 'trailers';

const MAX_CHUNK_LINE = 1024;

export class HttpResponseReader {
  private readonly maxHead: number;
  private readonly maxHeaders: number;
  private readonly maxBody: number;
  private pending: Buffer = Buffer.alloc(0);
  private phase: 'head' | 'body' | 'done' = 'head';
  private mode: Mode = 'close';
  private remaining = 0;
  private chunkState: ChunkState = 'size';
  private trailerBytes = 0;
  private bodyParts: Buffer[] = [];
  private bodyLength = 0;
  private status = 0;
  private reason = '';
  private headers: Record<string, string> = {};
  private truncated = false;

  constructor(limits: HttpResponseLimits) {
    this.maxHead = limits.maxHeadBytes ?? 16_384;
    this.maxHeaders = limits.maxHeaders ?? 100;
    this.maxBody = limits.maxBodyBytes;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** The phase reached, for error messages ('head', 'body'). */
  get stage(): string {
    return this.phase;
  }

  /** The head as parsed so far (status 0 before the head is complete). */
  get partial(): { status: number; headers: Record<string, string> } {
    return { status: this.status, headers: this.headers };
  }

  /** Feed bytes; returns true once the response is complete (or the body cap is reached). */
  push(chunk: Buffer): boolean {
    if (this.phase === 'done') return true;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.done) {
      const progressed = this.phase === 'head' ? this.readHead() : this.readBody();
      if (!progressed) break;
    }
    return this.done;
  }

  /** The peer closed the connection. */
  end(): void {
    if (this.phase === 'done') return;
    if (this.phase === 'body' && this.mode === 'close') {
      this.phase = 'done';
      return;
    }
    throw new HttpParseError(
      'incomplete',
      this.phase === 'head'
        ? 'connection closed before the response head was complete'
        : 'connection closed before the body was complete',
    );
  }

  result(): HttpResponse {
    if (this.phase !== 'done') throw new HttpParseError('incomplete', 'response not complete');
    return {
      status: this.status,
      reason: this.reason,
      headers: this.headers,
      body: Buffer.concat(this.bodyParts, this.bodyLength),
      truncated: this.truncated,
    };
  }

  private readHead(): boolean {
    // RFC 9112 §2.2: a bare LF may be accepted as a line terminator.
    const window = this.pending.subarray(0, this.maxHead + 4).toString('latin1');
    const end = /\r?\n\r?\n/.exec(window);
    const limit = end ? end.index + end[0].length : this.pending.length;
    if (limit > this.maxHead) {
      throw new HttpParseError('header-too-large', `response head larger than ${this.maxHead} bytes`);
    }
    if (!end) return false;
    const head = window.slice(0, end.index);
    this.pending = this.pending.subarray(limit);
    const lines = head.split(/\r?\n/);
    const statusLine = lines.shift() ?? '';
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m)
      throw new HttpParseError(
        'malformed-status',
        `not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`,
      );
    if (lines.length > this.maxHeaders) {
      throw new HttpParseError('too-many-headers', `more than ${this.maxHeaders} header lines`);
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      // RFC 9112 §5.1: no whitespace before the colon; §5.2: obs-fold is rejected here.
      const hm = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!hm)
        throw new HttpParseError('malformed-header', `bad header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = (hm[1] ?? '').toLowerCase();
      const value = hm[2] ?? '';
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(m[1]);
    if (status < 200) {
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      return true;
    }
    this.status = status;
    this.reason = m[2] ?? '';
    this.headers = headers;
    this.phase = 'body';
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (status === 204 || status === 304) {
      this.mode = 'none';
      this.phase = 'done';
    } else if (te !== undefined) {
      // RFC 9112 §6.3: chunked must be the final coding; anything else is read to close.
      const codings = te
        .toLowerCase()
        .split(',')
        .map((s) => s.trim());
      this.mode = codings[codings.length - 1] === 'chunked' ? 'chunked' : 'close';
    } else if (cl !== undefined) {
      const values = new Set(cl.split(',').map((s) => s.trim()));
      const only = [...values][0] ?? '';
      if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
        throw new HttpParseError(
          'malformed-header',
          `bad Content-Length: ${JSON.stringify(cl.slice(0, 80))}`,
        );
      }
      this.mode = 'length';
      this.remaining = Number(only);
      if (this.remaining === 0) this.phase = 'done';
    } else {
      this.mode = 'close';
    }
    return true;
  }

  /** Append body bytes up to the cap; returns false when the cap was hit. */
  private appendBody(bytes: Buffer): boolean {
    const room = this.maxBody - this.bodyLength;
    if (bytes.length > room) {
      if (room > 0) {
        this.bodyParts.push(bytes.subarray(0, room));
        this.bodyLength += room;
      }
      this.truncated = true;
      this.phase = 'done';
      return false;
    }
    this.bodyParts.push(bytes);
    this.bodyLength += bytes.length;
    return true;
  }

  private readBody(): boolean {
    if (this.pending.length === 0) return false;
    if (this.mode === 'close') {
      const data = this.pending;
      this.pending = Buffer.alloc(0);
      this.appendBody(data);
      return false;
    }
    if (this.mode === 'length') {
      const take = Math.min(this.remaining, this.pending.length);
      const data = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      this.remaining -= take;
      if (!this.appendBody(data)) return false;
      if (this.remaining === 0) this.phase = 'done';
      return this.phase === 'done';
    }
    return this.readChunked();
  }

  private takeLine(maxLength: number, what: string): string | undefined {
    const nl = this.pending.indexOf('\n');
    if (nl < 0) {
      if (this.pending.length > maxLength)
        throw new HttpParseError('malformed-chunk', `${what} line too long`);
      return undefined;
    }
    if (nl > maxLength) throw new HttpParseError('malformed-chunk', `${what} line too long`);
    const line = this.pending.subarray(0, nl).toString('latin1').replace(/\r$/, '');
    this.pending = this.pending.subarray(nl + 1);
    return line;
  }

  private readChunked(): boolean {
    switch (this.chunkState) {
      case 'size': {
        const line = this.takeLine(MAX_CHUNK_LINE, 'chunk size');
        if (line === undefined) return false;
        const sizeText = (line.split(';')[0] ?? '').trim();
        if (!/^[0-9A-Fa-f]{1,12}$/.test(sizeText)) {
          throw new HttpParseError('malformed-chunk', `bad chunk size: ${JSON.stringify(line.slice(0, 40))}`);
        }
        this.remaining = Number.parseInt(sizeText, 16);
        this.chunkState = this.remaining === 0 ? 'trailers' : 'data';
        return true;
      }
      case 'data': {
        const take = Math.min(this.remaining, this.pending.length);
        const data = this.pending.subarray(0, take);
        this.pending = this.pending.subarray(take);
        this.remaining -= take;
        if (!this.appendBody(data)) return false;
        if (this.remaining === 0) this.chunkState = 'data-crlf';
        return take > 0;
      }
      case 'data-crlf': {
        const crlf = this.pending[0] === 0x0d ? 2 : 1;
        if (this.pending.length < crlf) return false;
        if (this.pending[crlf - 1] !== 0x0a) {
          throw new HttpParseError('malformed-chunk', 'chunk data not followed by CRLF');
        }
        this.pending = this.pending.subarray(crlf);
        this.chunkState = 'size';
        return true;
      }
      case 'trailers': {
        const line = this.takeLine(this.maxHead, 'trailer');
        if (line === undefined) return false;
        this.trailerBytes += line.length + 2;
        if (this.trailerBytes > this.maxHead)
          throw new HttpParseError('header-too-large', 'trailers too large');
        if (line === '') this.phase = 'done';
        return true;
      }
    }
  }
}
