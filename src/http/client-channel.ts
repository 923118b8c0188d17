import type { FastifyReply } from 'fastify';
import type { ClientChannel } from '../ports/client-channel.js';

/**
 * A ClientChannel over Fastify's reply. JSON answers go through Fastify; an event stream takes the
 * raw socket (hijack) so that each event is written the moment it is relayed.
 */
export function replyChannel(reply: FastifyReply): ClientChannel {
  const raw = reply.raw;
  let gone = false;
  const goneListeners: (() => void)[] = [];
  raw.once('close', () => {
    if (raw.writableFinished) return;
    gone = true;
    for (const listener of goneListeners) listener();
  });

  return {
    get gone() {
      return gone;
    },
    onGone(listener) {
      if (gone) listener();
      else goneListeners.push(listener);
    },
    sendJson(status, body) {
      void reply.code(status).type('application/json').send(body);
    },
    openEventStream() {
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': String(reply.request.id),
      });
    },
    write(chunk) {
      if (gone) return false;
      if (raw.write(chunk)) return true;
      return new Promise<boolean>((resolve) => {
        const settle = (ok: boolean) => {
          raw.off('drain', onDrain);
          raw.off('close', onClose);
          resolve(ok);
        };
        const onDrain = () => settle(true);
        const onClose = () => settle(false);
        raw.once('drain', onDrain);
        raw.once('close', onClose);
      });
    },
    end() {
      raw.end();
    },
  };
}
