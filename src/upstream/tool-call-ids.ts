import { randomBytes } from 'node:crypto';
import { isRecord, type Json } from './openai-shapes.js';

/**
 * Tool call ids that carry a Gemini thought signature.
 *
 * Gemini 3 answers a function call with a `thoughtSignature` that must come back, on the same
 * functionCall part, when the conversation continues; without it the next request is refused with
 * 400. OpenAI's format has no field for it, so Tollgate carries it inside the tool call's id:
 * `call_<24 hex>_ts_<signature in base64url>`.
 *
 * Why the id: it is the one field every client must send back unchanged, since each tool result
 * names its call by it. The `openai` SDK and the Vercel AI SDK both do, streaming or not, and it
 * needs no memory on any Tollgate instance, so the next turn may be served by any of them. A field
 * beside the call (Google's own OpenAI endpoint uses `extra_content.google.thought_signature`) is
 * lost by the AI SDK's openai-compatible provider unless that provider is named "google", and by
 * any client that rebuilds the assistant message from a stream. Such a field is still read, as a
 * second source, when a client sends it.
 *
 * Other providers must never see the signature: OpenAI refuses ids over 40 characters and
 * Anthropic ids outside [a-zA-Z0-9_-], so their requests carry the id without it (`plainCallId`),
 * which both accept, and which stays the same in the call and in its result.
 */
const SIGNED = /^(call_[0-9a-f]{24})_ts_([A-Za-z0-9_-]+)$/;

/** A fresh id: unique across the conversation, as Anthropic requires of the calls it is sent. */
export function newCallId(signature?: string): string {
  const id = `call_${randomBytes(12).toString('hex')}`;
  if (!signature) return id;
  // Signatures are standard base64; base64url keeps the id to letters, digits, - and _.
  const url = signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${id}_ts_${url}`;
}

/** The signature an id carries, back in standard base64, or undefined. */
export function signatureOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const url = SIGNED.exec(id)?.[2];
  if (url === undefined) return undefined;
  const base64 = url.replace(/-/g, '+').replace(/_/g, '/');
  return base64 + '='.repeat((4 - (base64.length % 4)) % 4);
}

/** The id without its signature, as other providers are sent it. Any other id is unchanged. */
export function plainCallId(id: unknown): unknown {
  return typeof id === 'string' ? (SIGNED.exec(id)?.[1] ?? id) : id;
}

/**
 * The request's messages with every signed id made plain, for a provider other than Gemini. The
 * body itself when there is none (the common case), so nothing is copied.
 */
export function withPlainCallIds<T extends Readonly<Json>>(body: T): T {
  const messages = body.messages;
  if (!Array.isArray(messages) || !messages.some(carriesSignedId)) return body;
  return {
    ...body,
    messages: messages.map((message: unknown) => {
      if (!carriesSignedId(message)) return message;
      const m = message as Json;
      return {
        ...m,
        ...('tool_call_id' in m ? { tool_call_id: plainCallId(m.tool_call_id) } : {}),
        ...(Array.isArray(m.tool_calls)
          ? {
              tool_calls: m.tool_calls.map((call: unknown) =>
                isRecord(call) ? { ...call, id: plainCallId(call.id) } : call,
              ),
            }
          : {}),
      };
    }),
  };
}

function carriesSignedId(message: unknown): boolean {
  if (!isRecord(message)) return false;
  if (typeof message.tool_call_id === 'string' && SIGNED.test(message.tool_call_id)) return true;
  return (
    Array.isArray(message.tool_calls) &&
    message.tool_calls.some(
      (call: unknown) => isRecord(call) && typeof call.id === 'string' && SIGNED.test(call.id),
    )
  );
}
