/**
 * The ChatStore over Kysely, for SQLite and Postgres alike. Each operation
 * reads through the query builder and writes through StoreDatabase.write, so
 * the dialect decides how a write is made atomic (see store-database.ts).
 */
import { sql, type QueryResult } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { AppError, invalidRequest } from '../core/errors.js';
import { countTokens } from '../core/token-counter.js';
import type {
  BeginTurnInput,
  BeginTurnResult,
  ChatStore,
  Conversation,
  ConversationTarget,
  FinishTurnInput,
  NewConversation,
  Page,
  PageResult,
  ApiKey,
  ReplyCheckpoint,
  NewApiKey,
  StoredMessage,
  Surface,
  TokenUsage,
  UsageTotals,
  SearchHit,
  SearchQuery,
  ShareLink,
  SharedConversation,
  ImportedConversation,
  DailyUsage,
  Account,
  ConversationSummary,
  NewConversationSummary,
} from './chat-store.js';
import { AdminQueries } from './admin-queries.js';
import { ChatWrites } from './chat-writes.js';
import type { ChatDatabase, ConversationRow, MessageRow } from './database-schema.js';
import { searchStatement } from './message-search.js';
import { branchHistoryStatement, MessageTree } from './message-tree.js';
import { migrateToLatest } from './migrations.js';
import { toApiKey, toConversation, toConversationRow, toShareLink, toStoredMessage } from './row-mappers.js';
import { statementTemplate } from './statement-template.js';
import { NothingChanged, type AtomicWrite, type StoreDatabase } from './store-database.js';

/** Where a turn goes: a conversation believed to exist, or one to create. */
type ResolvedTarget = { kind: 'found'; conversationId: string } | { kind: 'create'; create: NewConversation };

export class KyselyChatStore implements ChatStore {
  readonly kind: StoreDatabase['kind'];
  private readonly db: ChatDatabase;
  private readonly writes: ChatWrites;
  private readonly admin: AdminQueries;

  /**
   * @param instanceId This process's instance, under which it writes its
   * replies in progress (see finishAbandonedReplies).
   */
  constructor(
    private readonly database: StoreDatabase,
    readonly instanceId: string = uuidv7(),
  ) {
    this.kind = database.kind;
    this.db = database.db;
    this.writes = new ChatWrites(database.db);
    this.admin = new AdminQueries(database.db, database);
  }

  /**
   * A conversation's latest messages that count as context, newest first;
   * none once it has branched (then its history is the active branch's, see
   * readHistory). The guard is a constant to the database, evaluated once.
   */
  private readonly historyStatement = statementTemplate((values: { conversationId: string; userId: string; limit: number }) =>
    this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', values.conversationId)
      // Keeps another user's messages out while the write has yet to reject the turn.
      .where('user_id', '=', values.userId)
      .where((row) =>
        row.not(
          row.exists(
            row
              .selectFrom('conversations')
              .select('conversations.id')
              .where('conversations.id', '=', values.conversationId)
              .where('conversations.branched', '=', 1),
          ),
        ),
      )
      .where('status', 'in', ['complete', 'interrupted'])
      // A reply that only called tools has no text; its calls are context once whole (a cut one has nothing to answer).
      .where((row) => row.or([row('content', '!=', ''), row.and([row('tool_calls', 'is not', null), row('status', '=', 'complete')])]))
      .orderBy('id', 'desc')
      .limit(values.limit),
  );

  async migrate(): Promise<void> {
    // Queued with the writes: SQLite has no migration lock, so two calls
    // from one process must not interleave.
    await this.database.write(() => migrateToLatest(this.database));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  close(): Promise<void> {
    return this.database.close();
  }

  async beginTurn(input: BeginTurnInput): Promise<BeginTurnResult> {
    try {
      return await this.attemptBeginTurn(input);
    } catch (error) {
      if (!(input.target.kind === 'keyed' && this.database.violatedConstraint(error) === 'unique')) {
        throw this.explainWriteError(error);
      }
    }
    // Concurrent first turns with one client key race to create its
    // conversation in Postgres; the losers find the winner's on a second look.
    return this.attemptBeginTurn(input).catch((error: unknown) => {
      throw this.explainWriteError(error);
    });
  }

  private attemptBeginTurn(input: BeginTurnInput): Promise<BeginTurnResult> {
    return this.database.write(async (writeAtomically) => {
      const target = await this.resolveTarget(input.userId, input.target);
      if (input.branch !== undefined) {
        if (target.kind !== 'found') throw invalidRequest('Only a turn of an existing conversation can branch', 'branch');
        return input.branch.kind === 'edit'
          ? this.beginEditTurn(input, target.conversationId, input.branch.of, writeAtomically)
          : this.beginRegenerateTurn(input, target.conversationId, input.branch.of, writeAtomically);
      }
      const found = target.kind === 'found';
      const history = found ? await this.readHistory(input.userId, target.conversationId, input.historyLimit) : [];
      const now = timestamp();
      const conversationId = found ? target.conversationId : uuidv7();
      const userMessage = newUserMessage(input, conversationId, now);
      // After the user message's id, so ordering by id puts the reply after its question.
      const replyId = uuidv7();
      const reply = this.writes.insertReplyInProgress(this.replyInProgress(input, conversationId, replyId, userMessage.id, now));
      if (!found) {
        const row = toConversationRow({ id: conversationId, userId: input.userId, input: target.create, now, messageCount: 1 });
        const [, inserted] = await writeAtomically([
          this.writes.insertUserIfMissing(input.userId, now),
          this.writes.insertConversation({ ...row, active_message_id: replyId }),
          this.writes.insertMessage({ ...userMessage, parentId: null }),
          reply,
        ]);
        const conversation = returnedConversation(inserted);
        return {
          conversation,
          created: true,
          userMessage: { ...userMessage, parentId: null },
          history,
          replyId,
          replySiblingIds: [replyId],
        };
      }
      // The user message reads the active leaf before advanceLeaf moves it to the reply.
      const [, inserted, , advanced] = await writeAtomically([
        this.writes.insertUserIfMissing(input.userId, now),
        this.writes.insertMessageAfterLeaf(userMessage),
        reply,
        this.writes.advanceLeaf(input.userId, conversationId, now, replyId),
      ]);
      const parentId = (inserted?.rows[0] as { parent_id: string | null } | undefined)?.parent_id ?? null;
      const conversation = returnedConversation(advanced);
      return { conversation, created: false, userMessage: { ...userMessage, parentId }, history, replyId, replySiblingIds: [replyId] };
    });
  }

  /** A new version of a user message: same parent, history the branch above it, its reply the active leaf. */
  private async beginEditTurn(input: BeginTurnInput, conversationId: string, of: string, writeAtomically: AtomicWrite) {
    const edited = await this.selectMessage(input.userId, of, conversationId);
    if (edited?.role !== 'user') throw branchTargetNotFound();
    const now = timestamp();
    const userMessage: StoredMessage = { ...newUserMessage(input, conversationId, now), parentId: edited.parent_id };
    const history = await this.readBranchHistory(input.userId, conversationId, edited.parent_id, input.historyLimit);
    const replyId = uuidv7();
    const [, , , advanced] = await writeAtomically([
      this.writes.insertUserIfMissing(input.userId, now),
      this.writes.insertMessage(userMessage),
      this.writes.insertReplyInProgress(this.replyInProgress(input, conversationId, replyId, userMessage.id, now)),
      this.writes.advanceLeafBranching(input.userId, conversationId, now, replyId, 1),
    ]);
    const conversation = returnedConversation(advanced);
    return { conversation, created: false, userMessage, history, replyId, replySiblingIds: [replyId] };
  }

  /** A new version of a reply, answering the same stored message: no new user message; history the branch above that message. */
  private async beginRegenerateTurn(input: BeginTurnInput, conversationId: string, of: string, writeAtomically: AtomicWrite) {
    const replaced = await this.selectMessage(input.userId, of, conversationId);
    if (replaced?.role !== 'assistant') throw branchTargetNotFound();
    const question = replaced.parent_id === null ? undefined : await this.selectMessage(input.userId, replaced.parent_id, conversationId);
    if (question === undefined) throw invalidRequest('This reply answers no stored message', 'branch.of');
    const history = await this.readBranchHistory(input.userId, conversationId, question.parent_id, input.historyLimit);
    const earlierVersions = await this.db
      .selectFrom('messages')
      .select('id')
      .where('conversation_id', '=', conversationId)
      .where('parent_id', '=', question.id)
      .where('role', '=', 'assistant')
      .orderBy('id')
      .execute();
    const now = timestamp();
    const replyId = uuidv7();
    const [, advanced] = await writeAtomically([
      this.writes.insertReplyInProgress(this.replyInProgress(input, conversationId, replyId, question.id, now)),
      this.writes.advanceLeafBranching(input.userId, conversationId, now, replyId, 0),
    ]);
    const conversation = returnedConversation(advanced);
    const replySiblingIds = [...earlierVersions.map((row) => row.id), replyId];
    return { conversation, created: false, userMessage: toStoredMessage(question), history, replyId, replySiblingIds };
  }

  private replyInProgress(input: BeginTurnInput, conversationId: string, replyId: string, parentId: string, now: string) {
    return {
      id: replyId,
      conversationId,
      userId: input.userId,
      model: input.reply.model,
      provider: input.reply.provider,
      createdAt: now,
      instanceId: this.instanceId,
      parentId,
    };
  }

  private async resolveTarget(userId: string, target: ConversationTarget): Promise<ResolvedTarget> {
    switch (target.kind) {
      case 'existing':
        // Not looked up: a conversation that is missing or someone else's
        // fails the message's (conversation_id, user_id) foreign key, which
        // rolls the write back and reads as not_found. One round trip fewer.
        return { kind: 'found', conversationId: target.conversationId };
      case 'keyed': {
        const row = await this.db
          .selectFrom('conversations')
          .select('id')
          .where('user_id', '=', userId)
          .where('surface', '=', target.create.surface)
          .where('client_key', '=', target.clientKey)
          .executeTakeFirst();
        // The target's key wins over one repeated (or missing) in `create`.
        if (row !== undefined) return { kind: 'found', conversationId: row.id };
        return { kind: 'create', create: { ...target.create, clientKey: target.clientKey } };
      }
      case 'new':
        return { kind: 'create', create: target.create };
    }
  }

  /**
   * History for a turn after the active leaf. A conversation that never
   * branched reads its latest messages, as it always has; only an empty
   * answer (a branched conversation, or one with nothing yet) costs a look
   * at the conversation, and only a branched one walks its active branch.
   */
  private async readHistory(userId: string, conversationId: string, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const { rows } = await this.db.executeQuery<MessageRow>(this.historyStatement({ conversationId, userId, limit }));
    if (rows.length > 0) return rows.reverse().map(toStoredMessage);
    const tree = await this.db
      .selectFrom('conversations')
      .select(['branched', 'active_message_id'])
      .where('id', '=', conversationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (tree === undefined || tree.branched === 0) return [];
    return this.readBranchHistory(userId, conversationId, tree.active_message_id, limit);
  }

  /** Up to `limit` context messages of the branch ending at `startId` (included), oldest first. */
  private async readBranchHistory(userId: string, conversationId: string, startId: string | null, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0 || startId === null) return [];
    const { rows } = await branchHistoryStatement({ userId, conversationId, startId, limit }).execute(this.db);
    return rows.reverse().map(toStoredMessage);
  }

  async finishTurn(input: FinishTurnInput): Promise<StoredMessage> {
    const now = timestamp();
    const reply = replyMessage(input, now);
    try {
      const [ended] = await this.endReply(reply);
      return { ...reply, parentId: (ended?.rows[0] as { parent_id: string | null } | undefined)?.parent_id ?? null };
    } catch (error) {
      if (error instanceof NothingChanged) throw conversationNotFound();
      throw this.explainWriteError(error);
    }
  }

  /** Ends a reply in progress and bills it, once: rolled back with NothingChanged if it has already ended or is not there. */
  private endReply(reply: StoredMessage): Promise<QueryResult<unknown>[]> {
    const usage = {
      userId: reply.userId,
      promptTokens: reply.promptTokens ?? 0,
      completionTokens: reply.completionTokens ?? 0,
      now: reply.createdAt,
    };
    return this.database.write((writeAtomically) =>
      writeAtomically(
        [
          this.writes.endReply(reply),
          this.writes.countMessage(reply.userId, reply.conversationId, reply.createdAt),
          this.writes.addUsage(usage),
          this.writes.addDailyUsage(usage),
        ],
        { mustChange: 0 },
      ),
    );
  }

  async searchMessages(userId: string, query: SearchQuery): Promise<SearchHit[]> {
    if (query.terms.length === 0) return [];
    const { rows } = await searchStatement(this.kind, userId, query).execute(this.db);
    return rows.map((row) => ({
      message: toStoredMessage(row),
      conversation: { id: row.conversation_id, title: row.conversation_title, surface: row.conversation_surface },
    }));
  }

  async importConversation(userId: string, input: ImportedConversation): Promise<Conversation> {
    const now = timestamp();
    const conversationId = uuidv7();
    // In order, so that ordering by id keeps the conversation's order; a chain, each after the one before.
    const ids = input.messages.map(() => uuidv7());
    const messages = input.messages.map((message, index): StoredMessage => ({
      id: ids[index]!,
      parentId: index === 0 ? null : ids[index - 1]!,
      conversationId,
      userId,
      role: message.role,
      content: message.content,
      status: message.status,
      tokens: message.tokens,
      model: message.model,
      provider: message.provider,
      promptTokens: null,
      completionTokens: null,
      timeToFirstTokenMs: null,
      latencyMs: null,
      createdAt: message.createdAt,
      ...(message.toolCalls === undefined ? {} : { toolCalls: message.toolCalls }),
      ...(message.toolCallId === undefined ? {} : { toolCallId: message.toolCallId }),
    }));
    const row = toConversationRow({
      id: conversationId,
      userId,
      input: input.conversation,
      now,
      messageCount: messages.length,
      activeMessageId: ids.at(-1) ?? null,
    });
    const [, inserted] = await this.database
      .write((writeAtomically) =>
        writeAtomically([
          this.writes.insertUserIfMissing(userId, now),
          this.writes.insertConversation({ ...row, last_message_at: messages.at(-1)?.createdAt ?? null }),
          ...messages.map((message) => this.writes.insertMessage(message)),
        ]),
      )
      .catch((error: unknown) => {
        throw this.explainWriteError(error);
      });
    return returnedConversation(inserted);
  }

  async createShareLink(userId: string, conversationId: string, token: string): Promise<ShareLink> {
    if ((await this.selectConversation(userId, conversationId)) === undefined) throw conversationNotFound();
    const row = { token, conversation_id: conversationId, user_id: userId, created_at: timestamp(), revoked_at: null };
    try {
      await this.database.write((writeAtomically) => writeAtomically([this.db.insertInto('share_links').values(row)]));
    } catch (error) {
      // Deleted meanwhile: the foreign key refuses the link.
      throw this.database.violatedConstraint(error) === 'foreign_key' ? conversationNotFound() : this.explainWriteError(error);
    }
    return toShareLink(row);
  }

  async listShareLinks(userId: string, conversationId: string): Promise<ShareLink[]> {
    if ((await this.selectConversation(userId, conversationId)) === undefined) throw conversationNotFound();
    const rows = await this.db
      .selectFrom('share_links')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toShareLink);
  }

  async revokeShareLink(userId: string, token: string): Promise<boolean> {
    const revoke = this.db
      .updateTable('share_links')
      .set({ revoked_at: timestamp() })
      .where('token', '=', token)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    const [result] = await this.database.write((writeAtomically) => writeAtomically([revoke]));
    return affectedAny(result);
  }

  async readSharedConversation(token: string, limit: number): Promise<SharedConversation | undefined> {
    const link = await this.db
      .selectFrom('share_links')
      .select(['conversation_id', 'user_id'])
      .where('token', '=', token)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (link === undefined) return undefined;
    const conversation = await this.selectConversation(link.user_id, link.conversation_id);
    if (conversation === undefined) return undefined;
    if (conversation.branched !== 0) {
      // The branch its owner sees, as the owner left it.
      const { items } = await this.listActiveBranch(conversation, { page: 1, limit });
      return { conversation: toConversation(conversation), messages: items.filter((message) => message.status !== 'in_progress') };
    }
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', link.conversation_id)
      .where('user_id', '=', link.user_id)
      .where('status', '<>', 'in_progress')
      .orderBy('id')
      .limit(limit)
      .execute();
    return { conversation: toConversation(conversation), messages: rows.map(toStoredMessage) };
  }

  async recordUsage(userId: string, promptTokens: number, completionTokens = 0): Promise<void> {
    const now = timestamp();
    const usage = { userId, promptTokens, completionTokens, now };
    await this.database.write((writeAtomically) =>
      writeAtomically([this.writes.insertUserIfMissing(userId, now), this.writes.addUsage(usage), this.writes.addDailyUsage(usage)]),
    );
  }

  async checkpointReply(checkpoint: ReplyCheckpoint): Promise<void> {
    await this.database.write((writeAtomically) => writeAtomically([this.writes.checkpointReply(checkpoint)]));
  }

  async recordHeartbeat(): Promise<void> {
    await this.database.write((writeAtomically) => writeAtomically([this.writes.recordHeartbeat(this.instanceId, timestamp())]));
  }

  async retireInstance(): Promise<void> {
    await this.database.write((writeAtomically) => writeAtomically([this.writes.deleteInstance(this.instanceId)]));
  }

  async finishAbandonedReplies(staleBefore: Date): Promise<StoredMessage[]> {
    const silentSince = staleBefore.toISOString();
    const abandoned = await this.db
      .selectFrom('messages')
      .select(['id', 'conversation_id', 'user_id', 'content', 'model', 'provider', 'prompt_tokens', 'parent_id'])
      .where('status', '=', 'in_progress')
      .where((expression) =>
        expression.or([
          expression('instance_id', 'is', null),
          expression('instance_id', 'not in', expression.selectFrom('instances').select('id').where('heartbeat_at', '>=', silentSince)),
        ]),
      )
      .limit(abandonedBatch)
      .execute();
    const ended: StoredMessage[] = [];
    for (const row of abandoned) {
      const completionTokens = countTokens(row.content);
      const reply: StoredMessage = {
        id: row.id,
        conversationId: row.conversation_id,
        userId: row.user_id,
        role: 'assistant',
        content: row.content,
        status: 'interrupted',
        tokens: completionTokens,
        model: row.model,
        provider: row.provider,
        promptTokens: row.prompt_tokens ?? 0,
        completionTokens,
        timeToFirstTokenMs: null,
        latencyMs: null,
        createdAt: timestamp(),
        parentId: row.parent_id,
      };
      // Another instance sweeping at the same moment, or the turn itself ending, may come first: it is billed once.
      await this.endReply(reply).then(
        () => ended.push(reply),
        (error: unknown) => {
          if (!(error instanceof NothingChanged)) throw error;
        },
      );
    }
    await this.database.write((writeAtomically) => writeAtomically([this.writes.deleteSilentInstances(silentSince)]));
    // A full batch means more may be waiting.
    return abandoned.length === abandonedBatch ? [...ended, ...(await this.finishAbandonedReplies(staleBefore))] : ended;
  }

  async createConversation(userId: string, input: NewConversation): Promise<Conversation> {
    const now = timestamp();
    const row = toConversationRow({ id: uuidv7(), userId, input, now, messageCount: 0 });
    try {
      const [, result] = await this.database.write((writeAtomically) =>
        writeAtomically([this.writes.insertUserIfMissing(userId, now), this.writes.insertConversation(row)]),
      );
      return returnedConversation(result);
    } catch (error) {
      if (this.database.violatedConstraint(error) !== 'unique') throw error;
      throw new AppError('invalid_request', 'A conversation with this client key already exists', {
        field: 'clientKey',
        cause: error,
      });
    }
  }

  async getConversation(userId: string, conversationId: string): Promise<Conversation | undefined> {
    const row = await this.selectConversation(userId, conversationId);
    return row === undefined ? undefined : toConversation(row);
  }

  async listConversations(userId: string, surface: Surface, page: Page): Promise<PageResult<Conversation>> {
    const own = this.db.selectFrom('conversations').where('user_id', '=', userId).where('surface', '=', surface);
    const [rows, count] = await Promise.all([
      own
        .selectAll()
        // Ties happen within a millisecond; the later-created conversation comes first.
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(offsetOf(page))
        .execute(),
      own.select((expression) => expression.fn.countAll().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toConversation), total: Number(count.total) };
  }

  async renameConversation(
    userId: string,
    conversationId: string,
    title: string,
    options: { onlyIfTitle?: string } = {},
  ): Promise<Conversation | undefined> {
    let rename = this.db.updateTable('conversations').set({ title }).where('id', '=', conversationId).where('user_id', '=', userId);
    if (options.onlyIfTitle !== undefined) rename = rename.where('title', '=', options.onlyIfTitle);
    const [result] = await this.database.write((writeAtomically) => writeAtomically([rename.returningAll()]));
    const row = result?.rows[0] as ConversationRow | undefined;
    return row === undefined ? undefined : toConversation(row);
  }

  async deleteConversation(userId: string, conversationId: string): Promise<boolean> {
    // Its messages go with it through the foreign key's ON DELETE CASCADE.
    const [result] = await this.database.write((writeAtomically) =>
      writeAtomically([this.writes.deleteConversation(userId, conversationId)]),
    );
    return affectedAny(result);
  }

  async forgetIdleGuests(cutoff: Date): Promise<number> {
    const before = cutoff.toISOString();
    // Messages and usage days go with their conversation and user through ON DELETE CASCADE.
    const [conversations] = await this.database.write((writeAtomically) =>
      writeAtomically([this.writes.deleteIdleGuestConversations(before), this.writes.deleteIdleGuestsWithoutConversations(before)]),
    );
    return affectedCount(conversations);
  }

  async clearMessages(userId: string, conversationId: string): Promise<boolean> {
    const now = timestamp();
    const [, result] = await this.database.write((writeAtomically) =>
      writeAtomically([this.writes.deleteMessages(userId, conversationId), this.writes.resetMessageCount(userId, conversationId, now)]),
    );
    return affectedAny(result);
  }

  /** Throws not_found unless the conversation belongs to the user. */
  async listMessages(userId: string, conversationId: string, page: Page): Promise<PageResult<StoredMessage>> {
    const conversation = await this.selectConversation(userId, conversationId);
    if (conversation === undefined) throw conversationNotFound();
    if (conversation.branched !== 0) return this.listActiveBranch(conversation, page);
    const [rows, inProgress] = await Promise.all([
      this.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('id', 'asc')
        .limit(page.limit)
        .offset(offsetOf(page))
        .execute(),
      this.db
        .selectFrom('messages')
        .select((expression) => expression.fn.countAll<number | string>().as('count'))
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'in_progress')
        .executeTakeFirstOrThrow(),
    ]);
    // message_count changes in the same atomic write as the ended messages, so it is their count; replies in progress come on top.
    return { items: rows.map(toStoredMessage), total: conversation.message_count + Number(inProgress.count) };
  }

  async saveSummary(userId: string, summary: NewConversationSummary): Promise<ConversationSummary> {
    const row = {
      id: uuidv7(),
      conversation_id: summary.conversationId,
      user_id: userId,
      covers_through_message_id: summary.coversThroughMessageId,
      content: summary.content,
      tokens: summary.tokens,
      created_at: timestamp(),
    };
    // One summary per conversation: the new one stands for everything the old one did.
    const replaceEarlier = this.db
      .deleteFrom('conversation_summaries')
      .where('conversation_id', '=', summary.conversationId)
      .where('user_id', '=', userId);
    try {
      await this.database.write((writeAtomically) =>
        writeAtomically([replaceEarlier, this.db.insertInto('conversation_summaries').values(row)]),
      );
    } catch (error) {
      throw this.database.violatedConstraint(error) === 'foreign_key' ? conversationNotFound() : error;
    }
    return { ...summary, createdAt: row.created_at };
  }

  async latestSummary(userId: string, conversationId: string): Promise<ConversationSummary | undefined> {
    const row = await this.db
      .selectFrom('conversation_summaries')
      .innerJoin('conversations', (join) =>
        join
          .onRef('conversations.id', '=', 'conversation_summaries.conversation_id')
          .onRef('conversations.user_id', '=', 'conversation_summaries.user_id'),
      )
      .select([
        'conversation_summaries.conversation_id',
        'conversation_summaries.covers_through_message_id',
        'conversation_summaries.content',
        'conversation_summaries.tokens',
        'conversation_summaries.created_at',
        'conversations.branched',
        'conversations.active_message_id',
      ])
      .where('conversation_summaries.conversation_id', '=', conversationId)
      .where('conversation_summaries.user_id', '=', userId)
      .orderBy('conversation_summaries.id', 'desc')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    // Once the conversation has branched, a summary made on another branch does not describe the active one.
    if (row.branched !== 0) {
      const tree = await MessageTree.read(this.db, userId, conversationId);
      if (!tree.branchTo(row.active_message_id).includes(row.covers_through_message_id)) return undefined;
    }
    return {
      conversationId: row.conversation_id,
      coversThroughMessageId: row.covers_through_message_id,
      content: row.content,
      tokens: Number(row.tokens),
      createdAt: row.created_at,
    };
  }

  /** A branched conversation's active branch, each message with its versions. */
  private async listActiveBranch(conversation: ConversationRow, page: Page): Promise<PageResult<StoredMessage>> {
    const tree = await MessageTree.read(this.db, conversation.user_id, conversation.id);
    const branch = tree.branchTo(conversation.active_message_id);
    const pageIds = branch.slice(offsetOf(page), offsetOf(page) + page.limit);
    const rows =
      pageIds.length === 0
        ? []
        : await this.db
            .selectFrom('messages')
            .selectAll()
            .where('conversation_id', '=', conversation.id)
            .where('id', 'in', pageIds)
            .orderBy('id')
            .execute();
    const items = rows.map((row) => ({ ...toStoredMessage(row), siblingIds: tree.siblingIds(row.id) }));
    return { items, total: branch.length };
  }

  async getMessage(userId: string, messageId: string): Promise<StoredMessage | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', messageId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row === undefined ? undefined : toStoredMessage(row);
  }

  async activateBranch(userId: string, conversationId: string, messageId: string): Promise<void> {
    // Read inside the write: SQLite then sees the tree as no turn of this process changes it meanwhile.
    await this.database.write(async (writeAtomically) => {
      const tree = await MessageTree.read(this.db, userId, conversationId);
      if (!tree.has(messageId)) throw new AppError('not_found', 'Message not found', { field: 'messageId' });
      await writeAtomically([this.writes.setActiveLeaf(userId, conversationId, tree.newestLeafBelow(messageId))]);
    });
  }

  async getUsage(userId: string): Promise<UsageTotals> {
    const [user, counts] = await Promise.all([
      this.db
        .selectFrom('users')
        .select(['prompt_tokens', 'completion_tokens', 'total_tokens', 'last_used_at'])
        .where('id', '=', userId)
        .executeTakeFirst(),
      this.db
        .selectFrom('conversations')
        .where('user_id', '=', userId)
        .select((expression) => [
          expression.fn.countAll().as('conversations'),
          expression.fn.coalesce(expression.fn.sum('message_count'), sql.lit(0)).as('messages'),
        ])
        .executeTakeFirstOrThrow(),
    ]);
    return {
      promptTokens: user?.prompt_tokens ?? 0,
      completionTokens: user?.completion_tokens ?? 0,
      totalTokens: user?.total_tokens ?? 0,
      conversationsCount: Number(counts.conversations),
      messagesCount: Number(counts.messages),
      lastUsedAt: user?.last_used_at ?? null,
    };
  }

  async getTokenUsage(userId: string): Promise<TokenUsage> {
    const [user, today] = await Promise.all([
      this.db.selectFrom('users').select('total_tokens').where('id', '=', userId).executeTakeFirst(),
      this.db
        .selectFrom('usage_days')
        .select('tokens')
        .where('user_id', '=', userId)
        .where('day', '=', timestamp().slice(0, 10))
        .executeTakeFirst(),
    ]);
    return { lifetimeTokens: user?.total_tokens ?? 0, todayTokens: today?.tokens ?? 0 };
  }

  async listDailyUsage(userId: string, sinceDay: string): Promise<DailyUsage[]> {
    const rows = await this.db
      .selectFrom('usage_days')
      .select(['day', 'tokens'])
      .where('user_id', '=', userId)
      .where('day', '>=', sinceDay)
      .orderBy('day')
      .execute();
    return rows.map((row) => ({ day: row.day, tokens: Number(row.tokens) }));
  }

  async createAccount(input: { email: string; passwordHash: string }): Promise<Account> {
    const now = timestamp();
    const userId = uuidv7();
    const role = (await this.countAccounts()) === 0 ? 'admin' : 'member';
    const row = { user_id: userId, email: input.email, password_hash: input.passwordHash, role, created_at: now } as const;
    try {
      await this.database.write((writeAtomically) =>
        writeAtomically([this.writes.insertUserIfMissing(userId, now), this.db.insertInto('accounts').values(row)]),
      );
    } catch (error) {
      if (this.database.violatedConstraint(error) === 'unique') {
        throw new AppError('invalid_request', 'An account with this email already exists', { field: 'email' });
      }
      throw this.explainWriteError(error);
    }
    return { userId, email: input.email, role, createdAt: now };
  }

  async findAccount(email: string): Promise<(Account & { passwordHash: string }) | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
    if (row === undefined) return undefined;
    return { userId: row.user_id, email: row.email, role: row.role, createdAt: row.created_at, passwordHash: row.password_hash };
  }

  async countAccounts(): Promise<number> {
    const row = await this.db
      .selectFrom('accounts')
      .select((expression) => expression.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async createApiKey(userId: string, input: NewApiKey): Promise<ApiKey> {
    const now = timestamp();
    const row = { id: uuidv7(), user_id: userId, name: input.name, key_hash: input.keyHash, key_prefix: input.prefix, created_at: now };
    await this.database.write((writeAtomically) =>
      writeAtomically([this.writes.insertUserIfMissing(userId, now), this.db.insertInto('api_keys').values(row)]),
    );
    return { id: row.id, userId, name: row.name, prefix: row.key_prefix, createdAt: now, revokedAt: null };
  }

  async listApiKeys(userId: string): Promise<ApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute();
    return rows.map(toApiKey);
  }

  async revokeApiKey(userId: string, keyId: string): Promise<boolean> {
    const revoke = this.db
      .updateTable('api_keys')
      .set({ revoked_at: timestamp() })
      .where('id', '=', keyId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    const [result] = await this.database.write((writeAtomically) => writeAtomically([revoke]));
    return affectedAny(result);
  }

  async findApiKeyOwner(keyHash: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select('user_id')
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row?.user_id;
  }

  listUsers: ChatStore['listUsers'] = (page) => this.admin.listUsers(page);
  listUserAccess: ChatStore['listUserAccess'] = () => this.admin.listUserAccess();
  getUserAccess: ChatStore['getUserAccess'] = (userId) => this.admin.getUserAccess(userId);
  updateUserAccess: ChatStore['updateUserAccess'] = (userId, changes, audit) => this.admin.updateUserAccess(userId, changes, audit);
  appendAudit: ChatStore['appendAudit'] = (entry) => this.admin.appendAudit(entry);
  listAudit: ChatStore['listAudit'] = (page) => this.admin.listAudit(page);
  providerTurnStats: ChatStore['providerTurnStats'] = (since) => this.admin.providerTurnStats(since);

  private selectMessage(userId: string, messageId: string, conversationId: string): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', messageId)
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  private selectConversation(userId: string, conversationId: string): Promise<ConversationRow | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', conversationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /**
   * A foreign key violation while writing a turn means the conversation is
   * gone (deleted meanwhile) or is not the user's: the messages table keys
   * on (conversation_id, user_id).
   */
  private explainWriteError(error: unknown): unknown {
    if (this.database.violatedConstraint(error) !== 'foreign_key') return error;
    return new AppError('not_found', 'Conversation not found', { cause: error, field: 'conversationId' });
  }
}

/** How many abandoned replies one sweep query reads at a time. */
const abandonedBatch = 200;

/** An edit or regeneration of a message that is not the conversation's message of that role (or the conversation is not the user's). */
function branchTargetNotFound(): AppError {
  return new AppError('not_found', 'Message not found', { field: 'branch.of' });
}

function conversationNotFound(): AppError {
  return new AppError('not_found', 'Conversation not found');
}

function timestamp(): string {
  return new Date().toISOString();
}

function offsetOf(page: Page): number {
  return Math.max(page.page - 1, 0) * page.limit;
}

function affectedAny(result: QueryResult<unknown> | undefined): boolean {
  return affectedCount(result) > 0;
}

function affectedCount(result: QueryResult<unknown> | undefined): number {
  return Number(result?.numAffectedRows ?? 0n);
}

function returnedConversation(result: QueryResult<unknown> | undefined): Conversation {
  const row = result?.rows[0];
  if (row === undefined) throw new Error('The conversation write returned no row');
  return toConversation(row as ConversationRow);
}

function newUserMessage(input: BeginTurnInput, conversationId: string, now: string): StoredMessage {
  return {
    id: uuidv7(),
    conversationId,
    userId: input.userId,
    role: input.toolCallId === undefined ? 'user' : 'tool',
    content: input.content,
    status: 'complete',
    tokens: input.tokens,
    model: null,
    provider: null,
    promptTokens: null,
    completionTokens: null,
    timeToFirstTokenMs: null,
    latencyMs: null,
    createdAt: now,
    ...(input.toolCallId === undefined ? {} : { toolCallId: input.toolCallId }),
  };
}

function replyMessage(input: FinishTurnInput, now: string): StoredMessage {
  return {
    id: input.messageId,
    conversationId: input.conversationId,
    userId: input.userId,
    role: 'assistant',
    content: input.content,
    status: input.status,
    tokens: input.completionTokens,
    model: input.model,
    provider: input.provider,
    promptTokens: input.promptTokens,
    completionTokens: input.completionTokens,
    // The columns are integers; timers such as performance.now() give fractions.
    timeToFirstTokenMs: input.timeToFirstTokenMs === null ? null : Math.round(input.timeToFirstTokenMs),
    latencyMs: Math.round(input.latencyMs),
    createdAt: now,
    ...(input.toolCalls === undefined || input.toolCalls.length === 0 ? {} : { toolCalls: input.toolCalls }),
  };
}
