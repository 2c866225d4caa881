// The simulator's SMTP server for one MX host: banner, EHLO, STARTTLS (RFC 3207) and just
// enough of the rest to accept a message, with the faults a checker must survive.
import type net from 'node:net';
import tls from 'node:tls';
import type { IssuedCertificate } from './ca.js';
import { type SimListener, sniTlsOptions, startListener } from './listener.js';
import type { ScenarioMx } from './scenario.js';

export type SmtpFaults = ScenarioMx['faults'];

const MAX_LINE = 4096;
const MAX_MESSAGE = 10 * 1024 * 1024;
const IDLE_MS = 60_000;

export interface SimSmtpHost {
  port: number;
  /** Messages accepted (DATA completed), for tests. */
  messages(): number;
  stop(): Promise<void>;
}

type Stream = net.Socket | tls.TLSSocket;

/** Write `count` continuation lines (or endless ones), honouring back-pressure. */
function pumpContinuations(socket: net.Socket, hostName: string, count: number, done: () => void): void {
  const batchLines = 1000;
  const batch = Buffer.from(`220-${hostName} continuation line\r\n`.repeat(batchLines));
  let left = count;
  const pump = (): void => {
    while (!socket.destroyed && left > 0) {
      const n = Math.min(left, batchLines);
      left -= Number.isFinite(left) ? n : 0;
      const ok = socket.write(n === batchLines ? batch : batch.subarray(0, (batch.length / batchLines) * n));
      if (!ok) {
        socket.once('drain', pump);
        return;
      }
    }
    if (!socket.destroyed) done();
  };
  pump();
}

export async function startSimSmtpHost(options: {
  hostName: string;
  faults: SmtpFaults;
  cert: IssuedCertificate;
  /** Served for any other SNI name, or none. */
  fallbackCert?: IssuedCertificate;
  host?: string;
  delayMs?: number;
}): Promise<SimSmtpHost> {
  const { faults, hostName } = options;
  let accepted = 0;
  const serverTls = sniTlsOptions(hostName, options.cert, options.fallbackCert, faults.tls10Only);
  const secureContext = tls.createSecureContext(serverTls);

  function session(socket: net.Socket): void {
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    if (faults.noBanner) {
      socket.resume(); // read and ignore whatever the client says
      return;
    }
    let stream: Stream = socket;
    let secure = false;
    let buffer = '';
    let inData = false;
    let dataSize = 0;
    const reply = (text: string): void => {
      if (!stream.destroyed) stream.write(`${text}\r\n`);
    };
    const multi = (code: number, lines: string[]): void => {
      reply(lines.map((l, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
    };

    const onLine = (line: string): void => {
      if (inData) {
        if (line === '.') {
          inData = false;
          if (dataSize > MAX_MESSAGE) reply('552 5.3.4 message too big');
          else {
            accepted++;
            reply('250 2.0.0 queued (simulation)');
          }
        } else dataSize += line.length + 2;
        return;
      }
      const verb = line.slice(0, 4).toUpperCase();
      const rest = line.slice(4).trim();
      if (line.length >= 8 && line.slice(0, 8).toUpperCase() === 'STARTTLS') {
        startTls();
        return;
      }
      switch (verb) {
        case 'EHLO': {
          const keywords = ['PIPELINING', 'SIZE 10485760', '8BITMIME'];
          if (!faults.noStarttls && !secure) keywords.push('STARTTLS');
          keywords.push('SMTPUTF8');
          multi(250, [`${hostName} greets ${rest || 'you'}`, ...keywords]);
          return;
        }
        case 'HELO': {
          reply(`250 ${hostName}`);
          return;
        }
        case 'MAIL':
        case 'RCPT':
        case 'RSET':
        case 'NOOP': {
          reply('250 2.0.0 ok');
          return;
        }
        case 'DATA':
          inData = true;
          dataSize = 0;
          {
            reply('354 end data with <CR><LF>.<CR><LF>');
            return;
          }
        case 'QUIT':
          reply(`221 2.0.0 ${hostName} closing`);
          stream.end();
          return;
        default: {
          reply('500 5.5.2 command not recognized');
          return;
        }
      }
    };

    let generation = 0;
    const onData = (chunk: Buffer): void => {
      const gen = generation;
      buffer += chunk.toString('latin1');
      for (;;) {
        const nl = buffer.indexOf('\n');
        if (nl < 0) break;
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        onLine(line);
        if (gen !== generation) return; // switched to TLS: the rest was dropped
      }
      if (buffer.length > MAX_LINE && inData) {
        // A long message line: count it, keep nothing (it cannot be the final ".").
        dataSize += buffer.length;
        buffer = '';
      } else if (buffer.length > MAX_LINE) {
        reply('500 5.5.6 line too long');
        stream.destroy();
      }
    };

    function startTls(): void {
      if (secure) {
        reply('503 5.5.1 TLS already active');
        return;
      }
      if (faults.noStarttls) {
        reply('502 5.5.1 STARTTLS not implemented');
        return;
      }
      if (faults.starttlsRefused) {
        reply('454 4.7.0 TLS not available due to temporary reason');
        return;
      }
      reply('220 2.0.0 ready to start TLS');
      socket.off('data', onData);
      // RFC 3207 §4.2: anything pipelined after STARTTLS is discarded.
      buffer = '';
      generation++;
      secure = true;
      const secureSocket = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext,
        ...(serverTls.SNICallback ? { SNICallback: serverTls.SNICallback } : {}),
      });
      stream = secureSocket;
      secureSocket.on('error', () => socket.destroy());
      secureSocket.on('data', onData);
    }

    socket.on('data', onData);
    const greet = (): void => reply(`220 ${hostName} ESMTP mta-sts-kit simulation`);
    if (faults.endlessBanner) {
      pumpContinuations(socket, hostName, Number.POSITIVE_INFINITY, () => undefined);
    } else if (faults.bannerContinuationLines) {
      pumpContinuations(socket, hostName, faults.bannerContinuationLines, greet);
    } else {
      greet();
    }
  }

  const listener: SimListener = await startListener(session, {
    host: options.host,
    delayMs: options.delayMs,
  });
  return { port: listener.port, messages: () => accepted, stop: () => listener.stop() };
}
