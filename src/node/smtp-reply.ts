// Reads SMTP replies (RFC 5321 §4.2) from a socket with limits: a line-length cap, a cap on
// the lines of one reply, and a time limit per reply, so hostile servers end in a failure.
import type { Socket } from 'node:net';

export interface SmtpReply {
  code: number;
  /** The text of each line, without the code and separator. */
  lines: string[];
}

export type SmtpReadResult = { ok: true; reply: SmtpReply } | { ok: false; code: string; detail: string };

export interface SmtpReplyLimits {
  /** Default 2048 bytes (RFC 5321 §4.5.3.1.5 allows 512). */
  maxLineBytes?: number;
  /** Default 1000 lines in one reply. */
  maxLines?: number;
}

export class SmtpReplyReader {
  private buffer = '';
  private current: string[] = [];
  private currentCode = 0;
  private ready: SmtpReadResult[] = [];
  private waiter: ((r: SmtpReadResult) => void) | undefined;
  private closed: SmtpReadResult | undefined;
  private readonly maxLine: number;
  private readonly maxLines: number;
  private readonly onData = (chunk: Buffer): void => this.feed(chunk.toString('latin1'));
  private readonly onClose = (): void => this.fail('closed', 'the server closed the connection');
  private readonly onError = (err: NodeJS.ErrnoException): void =>
    this.fail(err.code ?? 'network', err.message);

  constructor(
    private readonly socket: Socket,
    limits: SmtpReplyLimits = {},
  ) {
    this.maxLine = limits.maxLineBytes ?? 2048;
    this.maxLines = limits.maxLines ?? 1000;
    socket.on('data', this.onData);
    socket.on('end', this.onClose);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  /** Stop reading (before handing the socket to TLS). Unread bytes are discarded (RFC 3207 §4.2). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onClose);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    this.buffer = '';
  }

  /** Whether the server sent bytes beyond the last complete reply (e.g. after a STARTTLS 220). */
  get hasUnreadData(): boolean {
    return this.buffer.length > 0 || this.ready.length > 0 || this.current.length > 0;
  }

  read(timeoutMs: number): Promise<SmtpReadResult> {
    const next = this.ready.shift();
    if (next) return Promise.resolve(next);
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ ok: false, code: 'timeout', detail: `no complete reply in ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(r);
      };
    });
  }

  private deliver(result: SmtpReadResult): void {
    if (this.waiter) this.waiter(result);
    else this.ready.push(result);
  }

  private fail(code: string, detail: string): void {
    if (this.closed) return;
    this.closed = { ok: false, code, detail };
    this.detach();
    this.socket.destroy();
    this.deliver(this.closed);
  }

  private feed(text: string): void {
    this.buffer += text;
    for (;;) {
      if (this.closed) return;
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > this.maxLine) {
        this.fail('line-too-long', `reply line longer than ${this.maxLine} bytes`);
        return;
      }
      const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(line);
      if (!m) {
        this.fail('malformed-reply', `not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
        return;
      }
      const code = Number(m[1]);
      if (this.current.length > 0 && code !== this.currentCode) {
        this.fail(
          'malformed-reply',
          `reply code changed from ${this.currentCode} to ${code} within one reply`,
        );
        return;
      }
      this.currentCode = code;
      this.current.push(m[3] ?? '');
      if (this.current.length > this.maxLines) {
        this.fail('too-many-lines', `reply longer than ${this.maxLines} lines`);
        return;
      }
      if (m[2] !== '-') {
        this.deliver({ ok: true, reply: { code, lines: this.current } });
        this.current = [];
      }
    }
    if (this.buffer.length > this.maxLine)
      this.fail('line-too-long', `reply line longer than ${this.maxLine} bytes`);
  }
}
