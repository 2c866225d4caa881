import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SmtpReplyReader } from './smtp-reply.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  send(text: string): void {
    this.emit('data', Buffer.from(text, 'latin1'));
  }
}

function setup(limits?: { maxLines?: number; maxLineBytes?: number }) {
  const socket = new FakeSocket();
  const reader = new SmtpReplyReader(socket as unknown as Socket, limits);
  return { socket, reader };
}

describe('SmtpReplyReader', () => {
  it('reads single and multi-line replies, split anywhere', async () => {
    const { socket, reader } = setup();
    socket.send('220 mx.example ESMTP\r\n250-mx.example\r\n250-STARTTLS\r');
    socket.send('\n250 SIZE 1000\n');
    expect(await reader.read(100)).toEqual({ ok: true, reply: { code: 220, lines: ['mx.example ESMTP'] } });
    expect(await reader.read(100)).toEqual({
      ok: true,
      reply: { code: 250, lines: ['mx.example', 'STARTTLS', 'SIZE 1000'] },
    });
  });

  it('accepts a bare code line', async () => {
    const { socket, reader } = setup();
    socket.send('250\r\n');
    expect(await reader.read(100)).toEqual({ ok: true, reply: { code: 250, lines: [''] } });
  });

  it('times out when no complete reply arrives', async () => {
    const { socket, reader } = setup();
    socket.send('220-still going\r\n');
    expect(await reader.read(20)).toMatchObject({ ok: false, code: 'timeout' });
  });

  it('gives up on too many lines, long lines, garbage and mixed codes', async () => {
    const many = setup({ maxLines: 10 });
    many.socket.send('220-x\r\n'.repeat(11));
    expect(await many.reader.read(100)).toMatchObject({ ok: false, code: 'too-many-lines' });
    expect(many.socket.destroyed).toBe(true);

    const long = setup({ maxLineBytes: 100 });
    long.socket.send(`220 ${'x'.repeat(200)}`);
    expect(await long.reader.read(100)).toMatchObject({ ok: false, code: 'line-too-long' });

    const garbage = setup();
    garbage.socket.send('HTTP/1.1 400 Bad Request\r\n');
    expect(await garbage.reader.read(100)).toMatchObject({ ok: false, code: 'malformed-reply' });

    const mixed = setup();
    mixed.socket.send('250-a\r\n251 b\r\n');
    expect(await mixed.reader.read(100)).toMatchObject({ ok: false, code: 'malformed-reply' });
  });

  it('reports a closed connection', async () => {
    const { socket, reader } = setup();
    socket.emit('close');
    expect(await reader.read(100)).toMatchObject({ ok: false, code: 'closed' });
  });
});
