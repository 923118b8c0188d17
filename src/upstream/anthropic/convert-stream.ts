import { mapFinishReason } from './map-finish-reason.js';
import { type AnthropicUsage, convertUsage, type OpenAiUsage } from './usage.js';

/**
 * Anthropic's streaming events → OpenAI chat.completion.chunk objects, one event at a time:
 * message_start opens the assistant turn, text and tool-input deltas become content and
 * tool_calls deltas, message_delta carries the stop reason and the output tokens, message_stop ends.
 * Usage is known at the end (input tokens from message_start, output from message_delta); the
 * usage chunk is emitted only for a client that asked for it, as OpenAI does.
 */
type Json = Record<string, unknown>;

export class AnthropicStreamConverter {
  private id = '';
  private model: string;
  private usage: AnthropicUsage = {};
  /** Anthropic numbers content blocks across text and tools; OpenAI numbers tool calls alone. */
  private readonly toolIndexByBlock = new Map<number, number>();
  private finished = false;
  private finalUsage = false;
  private failed: Json | undefined;

  constructor(
    model: string,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {
    this.model = model;
  }

  /** Usage in OpenAI's shape once the stream has reported it, else undefined. */
  /**
   * Usage once the final count has arrived (message_delta). message_start's output_tokens is only
   * a placeholder: a stream cut before the end is charged for what was relayed instead.
   */
  get reportedUsage(): OpenAiUsage | undefined {
    return this.finalUsage ? convertUsage(this.usage) : undefined;
  }

  get done(): boolean {
    return this.finished;
  }

  /** The upstream's error event, if the stream ended with one. */
  get error(): Json | undefined {
    return this.failed;
  }

  push(event: Json): Json[] {
    switch (event.type) {
      case 'message_start':
        return this.start(event.message as Json);
      case 'content_block_start':
        return this.blockStart(Number(event.index), event.content_block as Json);
      case 'content_block_delta':
        return this.blockDelta(Number(event.index), event.delta as Json);
      case 'message_delta':
        return this.messageDelta(event.delta as Json, event.usage as AnthropicUsage | undefined);
      case 'message_stop':
        this.finished = true;
        return this.includeUsage && this.reportedUsage ? [this.chunk([], this.reportedUsage)] : [];
      case 'error':
        this.failed = (event.error as Json) ?? { type: 'api_error', message: 'upstream stream error' };
        this.finished = true;
        return [];
      default:
        // ping and content_block_stop carry nothing a chat completion chunk needs.
        return [];
    }
  }

  private start(message: Json): Json[] {
    this.id = String(message.id ?? '');
    if (typeof message.model === 'string') this.model = message.model;
    this.usage = { ...(message.usage as AnthropicUsage) };
    return [this.delta({ role: 'assistant', content: '' })];
  }

  private blockStart(index: number, block: Json): Json[] {
    if (block.type !== 'tool_use') return [];
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(index, toolIndex);
    return [
      this.delta({
        tool_calls: [
          { index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
        ],
      }),
    ];
  }

  private blockDelta(index: number, delta: Json): Json[] {
    if (delta.type === 'text_delta') return [this.delta({ content: delta.text })];
    if (delta.type === 'input_json_delta') {
      const toolIndex = this.toolIndexByBlock.get(index) ?? 0;
      return [
        this.delta({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] }),
      ];
    }
    return [];
  }

  private messageDelta(delta: Json, usage: AnthropicUsage | undefined): Json[] {
    if (usage) {
      this.usage = { ...this.usage, ...usage };
      this.finalUsage = true;
    }
    return [
      this.chunk([
        { index: 0, delta: {}, logprobs: null, finish_reason: mapFinishReason(delta?.stop_reason) },
      ]),
    ];
  }

  private delta(delta: Json): Json {
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
  }

  private chunk(choices: Json[], usage?: OpenAiUsage): Json {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
      ...(usage ? { usage } : {}),
    };
  }
}
