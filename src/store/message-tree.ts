/**
 * Reading a conversation's message tree (migrations.ts 0008). Every message
 * has a parent (null for the first); an edit or a regenerated reply is a
 * sibling: same parent, same role. Along a branch ids grow, since a child is
 * always stored after its parent, so a branch in id order is root to leaf.
 *
 * The per-turn history of a branched conversation walks parent ids up from
 * a start with a recursive query (SQLite and Postgres alike) that stops once
 * it has kept `limit` messages. Listing and switching branches read the
 * tree's skeleton (ids, parents, roles) and work on it in memory: they are
 * not per turn, and a conversation's skeleton is small.
 */
import { sql, type RawBuilder } from 'kysely';
import type { MessageRole } from './chat-store.js';
import type { ChatDatabase, MessageRow } from './database-schema.js';

/**
 * The messages that count as context (the history statement's filter in
 * kysely-chat-store.ts): ended ones with text, or whose tool calls are whole.
 */
const countsAsContext = (table: string) =>
  sql.raw(
    `(${table}.status in ('complete', 'interrupted') and (${table}.content <> '' or (${table}.tool_calls is not null and ${table}.status = 'complete')))`,
  );

/** Up to `limit` context messages on the branch ending at `startId` (it included), newest first. */
export function branchHistoryStatement(values: {
  userId: string;
  conversationId: string;
  startId: string;
  limit: number;
}): RawBuilder<MessageRow> {
  const { userId, conversationId, startId, limit } = values;
  // `branch cross join messages`: SQLite then reads from the branch outwards, each step one primary-key
  // lookup (without it, it scanned the conversation's messages at every step, or, ordering by
  // messages.id, the whole table). Postgres plans the join as it sees fit.
  return sql<MessageRow>`with recursive branch (id, parent_id, depth, kept) as (
      select id, parent_id, 0, case when ${countsAsContext('messages')} then 1 else 0 end
        from messages where id = ${startId} and conversation_id = ${conversationId} and user_id = ${userId}
      union all
      select parent.id, parent.parent_id, branch.depth + 1, branch.kept + case when ${countsAsContext('parent')} then 1 else 0 end
        from branch cross join messages parent
        where parent.id = branch.parent_id and branch.kept < ${limit} and parent.conversation_id = ${conversationId}
    )
    select messages.* from branch cross join messages
    where messages.id = branch.id and ${countsAsContext('messages')}
    order by branch.depth limit ${limit}`;
}

export interface TreeNode {
  id: string;
  parentId: string | null;
  role: MessageRole;
}

/** A conversation's tree as its skeleton, in id order. */
export class MessageTree {
  private readonly byId = new Map<string, TreeNode>();
  private readonly childrenOf = new Map<string | null, TreeNode[]>();

  constructor(nodes: readonly TreeNode[]) {
    for (const node of nodes) {
      this.byId.set(node.id, node);
      const children = this.childrenOf.get(node.parentId);
      if (children === undefined) this.childrenOf.set(node.parentId, [node]);
      else children.push(node);
    }
  }

  static async read(db: ChatDatabase, userId: string, conversationId: string): Promise<MessageTree> {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'parent_id', 'role'])
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return new MessageTree(rows.map((row) => ({ id: row.id, parentId: row.parent_id, role: row.role })));
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Root to `leafId`; empty when it is not in the tree. */
  branchTo(leafId: string | null): string[] {
    const branch: string[] = [];
    for (let node = leafId === null ? undefined : this.byId.get(leafId); node !== undefined;) {
      branch.push(node.id);
      node = node.parentId === null ? undefined : this.byId.get(node.parentId);
    }
    return branch.reverse();
  }

  /** From `id` down, the newest child at each step, to a leaf. */
  newestLeafBelow(id: string): string {
    let leaf = id;
    for (let children = this.childrenOf.get(leaf); children !== undefined; children = this.childrenOf.get(leaf)) {
      leaf = children[children.length - 1]!.id;
    }
    return leaf;
  }

  /** The ids of the messages with its parent and role, oldest first, itself included. */
  siblingIds(id: string): string[] {
    const node = this.byId.get(id);
    if (node === undefined) return [id];
    return (this.childrenOf.get(node.parentId) ?? []).filter((sibling) => sibling.role === node.role).map((sibling) => sibling.id);
  }
}
