import { type Failure, failure } from './errors.js';

/**
 * Request fields whose cost no hold can bound in advance. Each is refused with a 400 naming it,
 * unless the model's configuration lists it in `allow_fields`: its operator then says the model's
 * prices already cover it, and Tollgate forwards it and charges the tokens the provider reports.
 * - chat_template: a template sent by the client can expand without bound on the server;
 * - mm_processor_kwargs: changes how many tokens an image or a video becomes, past its allowance;
 * - service_tier other than auto or default: a tier billed at other prices than the model's;
 * - web_search_options: searches billed per call, beyond tokens;
 * - audio: audio output (the `audio` parameter, or "audio" in `modalities`) and earlier audio
 *   answers referred to in messages, billed at audio prices; also audio the provider fetches from a
 *   URL (`audio_url` content parts), whose length only the provider learns;
 * - video: video content parts (`video_url`, `video`, `input_video`, as vLLM and others accept),
 *   which become tokens by duration and frame rate, unknown until the provider decodes them.
 */
export const UNBOUNDED_FIELDS = [
  'chat_template',
  'mm_processor_kwargs',
  'service_tier',
  'web_search_options',
  'audio',
  'video',
] as const;

export type UnboundedField = (typeof UNBOUNDED_FIELDS)[number];

const present = (value: unknown) => value !== undefined && value !== null;

function refusal(param: string, message: string): Failure {
  return failure('invalid_request', `${message} Ask the operator to allow it for this model.`, param);
}

function audioRefusal(body: Readonly<Record<string, unknown>>): Failure | undefined {
  if (present(body.audio)) {
    return refusal('audio', 'Audio output is not available for this model: it is billed beyond tokens.');
  }
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) {
    return refusal('modalities', 'Audio output is not available for this model: it is billed beyond tokens.');
  }
  if (!Array.isArray(body.messages)) return undefined;
  for (let i = 0; i < body.messages.length; i++) {
    const message: unknown = body.messages[i];
    if (typeof message === 'object' && message !== null && present((message as { audio?: unknown }).audio)) {
      return refusal(
        `messages.${i}.audio`,
        'Earlier audio answers are not accepted for this model: the provider reads them at audio prices.',
      );
    }
  }
  return undefined;
}

const AUDIO_PART_TYPES = new Set(['audio_url']);
const VIDEO_PART_TYPES = new Set(['video_url', 'video', 'input_video']);

/** The first content part of a kind in `types`, as the `param` that names it. */
function mediaPartParam(
  body: Readonly<Record<string, unknown>>,
  types: ReadonlySet<string>,
): string | undefined {
  if (!Array.isArray(body.messages)) return undefined;
  for (let i = 0; i < body.messages.length; i++) {
    const content: unknown = (body.messages[i] as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (let j = 0; j < content.length; j++) {
      const type: unknown = (content[j] as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && types.has(type)) return `messages.${i}.content.${j}`;
    }
  }
  return undefined;
}

function mediaRefusal(
  body: Readonly<Record<string, unknown>>,
  allowed: ReadonlySet<UnboundedField>,
): Failure | undefined {
  const video = allowed.has('video') ? undefined : mediaPartParam(body, VIDEO_PART_TYPES);
  if (video) {
    return refusal(
      video,
      'Video input is not accepted for this model: its cost depends on a length only the provider learns.',
    );
  }
  const audio = allowed.has('audio') ? undefined : mediaPartParam(body, AUDIO_PART_TYPES);
  if (audio) {
    return refusal(
      audio,
      'Audio fetched from a URL is not accepted for this model: its cost depends on a length only the provider learns.',
    );
  }
  return undefined;
}

/** The refusal for the first field of `body` whose cost cannot be bounded and that the model does not allow. */
export function unboundedFieldRefusal(
  body: Readonly<Record<string, unknown>>,
  allowed: ReadonlySet<UnboundedField>,
): Failure | undefined {
  if (present(body.chat_template) && !allowed.has('chat_template')) {
    return refusal(
      'chat_template',
      'chat_template is not accepted for this model: a template can expand without bound, so its cost cannot be held in advance.',
    );
  }
  if (present(body.mm_processor_kwargs) && !allowed.has('mm_processor_kwargs')) {
    return refusal(
      'mm_processor_kwargs',
      'mm_processor_kwargs is not accepted for this model: it changes what an image or a video costs beyond its allowance.',
    );
  }
  const tier = body.service_tier;
  if (present(tier) && tier !== 'auto' && tier !== 'default' && !allowed.has('service_tier')) {
    return refusal(
      'service_tier',
      `service_tier ${JSON.stringify(tier)} is not accepted for this model: only "auto" and "default" are billed at its prices.`,
    );
  }
  if (present(body.web_search_options) && !allowed.has('web_search_options')) {
    return refusal(
      'web_search_options',
      'web_search_options is not accepted for this model: web searches are billed beyond tokens.',
    );
  }
  return mediaRefusal(body, allowed) ?? (allowed.has('audio') ? undefined : audioRefusal(body));
}
