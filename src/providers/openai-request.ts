/**
 * Translates a provider-port request into chat completions': messages (tool
 * calls, tool results, image parts), tools, response format and sampling
 * settings in OpenAI's names.
 */
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { invalidRequest } from '../core/errors.js';
import type { ChatMessage, ResponseFormat, SamplingOptions, ToolOptions } from './chat-provider.js';

/** The sampling settings in OpenAI's names; absent ones are left out. */
export function openAISampling(sampling: SamplingOptions | undefined) {
  if (sampling === undefined) return {};
  if (sampling.topK !== undefined) throw invalidRequest('top_k: OpenAI models do not support it', 'top_k');
  return {
    ...(sampling.stop === undefined ? {} : { stop: sampling.stop }),
    ...(sampling.topP === undefined ? {} : { top_p: sampling.topP }),
    ...(sampling.seed === undefined ? {} : { seed: sampling.seed }),
    ...(sampling.presencePenalty === undefined ? {} : { presence_penalty: sampling.presencePenalty }),
    ...(sampling.frequencyPenalty === undefined ? {} : { frequency_penalty: sampling.frequencyPenalty }),
    ...(sampling.logitBias === undefined ? {} : { logit_bias: sampling.logitBias }),
    ...(sampling.logprobs === undefined ? {} : { logprobs: true, top_logprobs: sampling.logprobs.top }),
    ...(sampling.user === undefined ? {} : { user: sampling.user }),
  };
}

export function toOpenAIMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
    case 'assistant':
      if (message.toolCalls === undefined) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    case 'user':
      if (message.parts === undefined) return { role: 'user', content: message.content };
      return { role: 'user', content: message.parts.map(toOpenAIPart) };
    default:
      return { role: message.role, content: message.content };
  }
}

function toOpenAIPart(part: NonNullable<ChatMessage['parts']>[number]): ChatCompletionContentPart {
  return part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', image_url: { url: part.url } };
}

export function openAITools(tools: ToolOptions | undefined) {
  if (tools === undefined) return {};
  const choice = tools.choice;
  return {
    tools: tools.tools.map((tool) => ({
      type: 'function' as const,
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.parameters === undefined ? {} : { parameters: tool.parameters }),
        ...(tool.strict === undefined ? {} : { strict: tool.strict }),
      },
    })),
    ...(choice === undefined
      ? {}
      : { tool_choice: typeof choice === 'string' ? choice : { type: 'function' as const, function: { name: choice.name } } }),
    ...(tools.parallel === undefined ? {} : { parallel_tool_calls: tools.parallel }),
  };
}

export function openAIResponseFormat(format: ResponseFormat) {
  if (format.type === 'json_object') return { type: 'json_object' as const };
  const { name, schema, strict, description } = format;
  return {
    type: 'json_schema' as const,
    json_schema: {
      name,
      ...(schema === undefined ? {} : { schema }),
      ...(strict === undefined ? {} : { strict }),
      ...(description === undefined ? {} : { description }),
    },
  };
}
