import { createServer, type Server, type Socket } from 'node:net';

export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  /** The DATA section as sent: headers, a blank line, the body (quoted-printable undone). */
  readonly data: string;
}

export interface FakeSmtpServer {
  readonly url: string;
  readonly mails: ReceivedMail[];
  /** The first http(s) link in the last mail to `to`. */
  linkTo(to: string): string | undefined;
  close(): Promise<void>;
}

/** Undoes quoted-printable soft line breaks and =XX escapes, as a mail reader would. */
function unquote(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * A minimal SMTP server on 127.0.0.1 speaking the real protocol (RFC 5321: greeting, EHLO, MAIL
 * FROM, RCPT TO, DATA ending with <CRLF>.<CRLF>, QUIT), without TLS or authentication.
 */
export async function startFakeSmtpServer(): Promise<FakeSmtpServer> {
  const mails: ReceivedMail[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let inData = false;
    let from = '';
    let to: string[] = [];
    let data = '';
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 fake-smtp ready');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let at = buffer.indexOf('\r\n');
      while (at !== -1) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push({ from, to, data: unquote(data) });
            from = '';
            to = [];
            data = '';
            reply('250 2.0.0 queued');
          } else {
            data += `${line.startsWith('..') ? line.slice(1) : line}\r\n`;
          }
        } else {
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') socket.write('250-fake-smtp\r\n250 8BITMIME\r\n');
          else if (verb === 'HELO') reply('250 fake-smtp');
          else if (verb === 'MAIL') {
            from = /<([^>]*)>/.exec(line)?.[1] ?? '';
            reply('250 2.1.0 ok');
          } else if (verb === 'RCPT') {
            to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
            reply('250 2.1.5 ok');
          } else if (verb === 'DATA') {
            inData = true;
            reply('354 end with <CRLF>.<CRLF>');
          } else if (verb === 'QUIT') {
            reply('221 2.0.0 bye');
            socket.end();
          } else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok');
          else reply('502 5.5.1 not implemented');
        }
        at = buffer.indexOf('\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    linkTo(to) {
      const mail = mails.filter((m) => m.to.includes(to)).at(-1);
      return mail ? /https?:\/\/[^\s]+/.exec(mail.data)?.[0] : undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
