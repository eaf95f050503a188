import { z } from 'zod';
import type { Conversation, ImportedConversation, StoredMessage, Surface } from '../../store/chat-store.js';
import { countTokens } from '../../core/token-counter.js';

/** The export's `format` marker, so that an import knows what it reads. */
export const exportFormat = 'parley.conversation';
export const exportVersion = 1;
/** The most messages one export or import holds. */
export const maxExportedMessages = 10_000;

const surfaces = [
  'openai',
  'anthropic',
  'assistant',
  'ai-module',
  'chat-sessions',
  'stream-v2',
  'voice',
] as const satisfies readonly Surface[];

const exportedMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000),
  status: z.enum(['complete', 'interrupted', 'failed', 'in_progress']).default('complete'),
  model: z.string().max(200).nullable().default(null),
  provider: z.string().max(200).nullable().default(null),
  createdAt: z.iso.datetime({ offset: true }),
  toolCalls: z
    .array(z.object({ id: z.string().max(200), name: z.string().max(200), arguments: z.string() }))
    .max(128)
    .optional(),
  toolCallId: z.string().max(200).optional(),
});

/** What GET …/export?format=json writes and POST …/import reads back. */
export const conversationExportSchema = z.object({
  format: z.literal(exportFormat),
  version: z.literal(exportVersion),
  conversation: z.object({
    title: z.string().max(500).nullable(),
    surface: z.enum(surfaces),
    systemPrompt: z.string().max(100_000).nullable(),
    createdAt: z.iso.datetime({ offset: true }),
  }),
  messages: z.array(exportedMessage).max(maxExportedMessages),
});

export type ConversationExport = z.infer<typeof conversationExportSchema>;

export function toExport(conversation: Conversation, messages: StoredMessage[]): ConversationExport {
  return {
    format: exportFormat,
    version: exportVersion,
    conversation: {
      title: conversation.title,
      surface: conversation.surface as Surface,
      systemPrompt: conversation.systemPrompt,
      createdAt: conversation.createdAt,
    },
    messages: messages.map((message) => ({
      role: message.role,
      content: message.content,
      status: message.status,
      model: message.model,
      provider: message.provider,
      createdAt: message.createdAt,
      ...(message.toolCalls === undefined ? {} : { toolCalls: message.toolCalls }),
      ...(message.toolCallId === undefined ? {} : { toolCallId: message.toolCallId }),
    })),
  };
}

/** The model APIs' conversations hold system and tool messages; every product API's history only the user's and the assistant's. */
const holdsAnyRole = new Set<Surface>(['openai', 'anthropic']);

/** Why an export cannot be imported as it is, or undefined: a message its surface's API could not show. */
export function importProblem(exported: ConversationExport): { message: string; field: string } | undefined {
  if (holdsAnyRole.has(exported.conversation.surface)) return undefined;
  const index = exported.messages.findIndex(
    (message) => (message.role !== 'user' && message.role !== 'assistant') || message.toolCalls !== undefined,
  );
  if (index === -1) return undefined;
  return {
    message: `messages[${index}]: a ${exported.conversation.surface} conversation holds only user and assistant messages without tool calls`,
    field: `messages.${index}.role`,
  };
}

/** An export as the store imports it: a reply that was still streaming when exported comes back interrupted. */
export function toImported(exported: ConversationExport): ImportedConversation {
  return {
    conversation: {
      surface: exported.conversation.surface,
      title: exported.conversation.title,
      systemPrompt: exported.conversation.systemPrompt,
    },
    messages: exported.messages.map((message) => ({
      role: message.role,
      content: message.content,
      tokens: countTokens(message.content),
      status: message.status === 'in_progress' ? 'interrupted' : message.status,
      model: message.model,
      provider: message.provider,
      createdAt: new Date(message.createdAt).toISOString(),
      ...(message.toolCalls === undefined ? {} : { toolCalls: message.toolCalls }),
      ...(message.toolCallId === undefined ? {} : { toolCallId: message.toolCallId }),
    })),
  };
}

const speakers: Record<StoredMessage['role'], string> = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' };

/** The conversation as a Markdown document: a heading, then each message under its speaker. */
export function toMarkdown(conversation: Conversation, messages: StoredMessage[]): string {
  const lines = [`# ${conversation.title ?? 'Conversation'}`, '', `_${conversation.createdAt}_`, ''];
  for (const message of messages) {
    const model = message.role === 'assistant' && message.model !== null ? ` (${message.model})` : '';
    const status = message.status === 'complete' ? '' : ` — ${message.status}`;
    lines.push(`## ${speakers[message.role]}${model}${status}`, '');
    if (message.content !== '') lines.push(message.content, '');
    for (const call of message.toolCalls ?? []) lines.push(`Tool call \`${call.name}\`:`, '', '```json', call.arguments, '```', '');
  }
  return lines.join('\n');
}
