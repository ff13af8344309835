import { Client } from 'pg';
import { urlFor } from './env';
import { bearer, type Member, type TestApp } from './test-app';

/** What supertest resolves to. */
export type Res = Awaited<ReturnType<ReturnType<TestApp['http']>['get']>>;

export interface MemberSummaryJson {
  userId: string;
  displayName: string;
  role: string;
}

export interface MessageJson {
  id: string;
  threadId: string;
  seq: number;
  sender: MemberSummaryJson;
  body: string | null;
  clientMessageId: string | null;
  createdAt: string;
  deleted: boolean;
  deletedAt: string | null;
  seenBy: { userId: string; seenAt: string }[];
}

export interface ThreadJson {
  id: string;
  kind: 'direct';
  participants: MemberSummaryJson[];
  lastMessage: MessageJson | null;
  lastMessageAt: string | null;
  unreadCount: number;
  createdAt: string;
}

export interface PageJson<T> {
  data: T[];
  nextCursor: string | null;
}

export const API = '/api/v1';
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const summaryOf = (m: Member): MemberSummaryJson => ({
  userId: m.userId,
  displayName: m.displayName,
  role: m.role,
});

/** Asserts an RFC 9457 problem with the given status and slug. */
export function expectProblem(res: Res, status: number, slug: string): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status,
    body: expect.objectContaining({
      type: expect.stringMatching(new RegExp(`/${slug}$`)),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance: expect.any(String),
    }),
  });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

/** A problem body without `instance`, for "identical to an unknown id" comparisons. */
export function withoutInstance(res: Res): Record<string, unknown> {
  const { instance: _instance, ...rest } = res.body as Record<string, unknown>;
  return { status: res.status, contentType: res.headers['content-type'], ...rest };
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- threads ------------------------------------------------------------------------------

export function startThread(
  t: TestApp,
  from: Member,
  to: Member | string,
  extra: { body?: string; clientMessageId?: string } = {},
): Promise<Res> {
  return t
    .http()
    .post(`${API}/messages/threads`)
    .set(bearer(from))
    .send({ recipientId: typeof to === 'string' ? to : to.userId, ...extra });
}

/** Starts a new thread (201) and returns it, with its first message when a body was given. */
export async function newThread(
  t: TestApp,
  from: Member,
  to: Member,
  body?: string,
): Promise<{ thread: ThreadJson; message?: MessageJson }> {
  const res = await startThread(t, from, to, body === undefined ? {} : { body });
  if (res.status !== 201) throw new Error(`newThread: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { thread: ThreadJson; message?: MessageJson };
}

/** Two members of `org` and the direct thread between them (Alice started it). */
export async function pair(
  t: TestApp,
  org: string,
  bobOptions: Parameters<TestApp['createMember']>[1] = {},
): Promise<{ alice: Member; bob: Member; threadId: string }> {
  const alice = await t.createMember(org);
  const bob = await t.createMember(org, bobOptions);
  const { thread } = await newThread(t, alice, bob);
  return { alice, bob, threadId: thread.id };
}

export function viewThread(t: TestApp, viewer: Member, threadId: string): Promise<Res> {
  return t.http().get(`${API}/messages/threads/${threadId}`).set(bearer(viewer));
}

export function listThreads(
  t: TestApp,
  viewer: Member,
  query: Record<string, string | number> = {},
): Promise<Res> {
  return t.http().get(`${API}/messages/threads`).query(query).set(bearer(viewer));
}

/** Every thread in the viewer's list, walking the cursors. */
export async function allThreads(t: TestApp, viewer: Member): Promise<ThreadJson[]> {
  const out: ThreadJson[] = [];
  let cursor: string | null = null;
  do {
    const res = await listThreads(t, viewer, cursor ? { limit: 100, cursor } : { limit: 100 });
    if (res.status !== 200) throw new Error(`allThreads: ${res.status}`);
    const page = res.body as PageJson<ThreadJson>;
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The viewer's list entry for one thread (undefined when not listed). */
export async function listedThread(
  t: TestApp,
  viewer: Member,
  threadId: string,
): Promise<ThreadJson | undefined> {
  return (await allThreads(t, viewer)).find((x) => x.id === threadId);
}

// ---- messages -----------------------------------------------------------------------------

export function send(
  t: TestApp,
  from: Member,
  threadId: string,
  body: unknown,
  options: { clientMessageId?: string; idempotencyKey?: string } = {},
): Promise<Res> {
  const req = t.http().post(`${API}/messages/threads/${threadId}/messages`).set(bearer(from));
  if (options.idempotencyKey !== undefined) req.set('idempotency-key', options.idempotencyKey);
  const payload: Record<string, unknown> = { body };
  if (options.clientMessageId !== undefined) payload.clientMessageId = options.clientMessageId;
  return req.send(payload);
}

/** Sends a message that must be accepted (201) and returns it. */
export async function sent(
  t: TestApp,
  from: Member,
  threadId: string,
  body: string,
): Promise<MessageJson> {
  const res = await send(t, from, threadId, body);
  if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as MessageJson;
}

/** Sends `count` messages one after the other. */
export async function sendMany(
  t: TestApp,
  from: Member,
  threadId: string,
  count: number,
  prefix = 'message',
): Promise<MessageJson[]> {
  const out: MessageJson[] = [];
  for (let i = 1; i <= count; i++) out.push(await sent(t, from, threadId, `${prefix} ${i}`));
  return out;
}

export function getPage(
  t: TestApp,
  viewer: Member,
  threadId: string,
  query: Record<string, string | number> = {},
): Promise<Res> {
  return t
    .http()
    .get(`${API}/messages/threads/${threadId}/messages`)
    .query(query)
    .set(bearer(viewer));
}

export async function pageOf(
  t: TestApp,
  viewer: Member,
  threadId: string,
  query: Record<string, string | number> = {},
): Promise<PageJson<MessageJson>> {
  const res = await getPage(t, viewer, threadId, query);
  if (res.status !== 200) throw new Error(`page: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as PageJson<MessageJson>;
}

/** Every message the viewer may see, oldest first, walking `before` cursors. */
export async function allMessages(
  t: TestApp,
  viewer: Member,
  threadId: string,
  limit = 100,
): Promise<MessageJson[]> {
  const pages: MessageJson[][] = [];
  let before: string | null = null;
  do {
    const page: PageJson<MessageJson> = await pageOf(
      t,
      viewer,
      threadId,
      before ? { limit, before } : { limit },
    );
    pages.unshift(page.data);
    before = page.nextCursor;
  } while (before);
  return pages.flat();
}

export function deleteMessage(
  t: TestApp,
  who: Member,
  threadId: string,
  messageId: string,
): Promise<Res> {
  return t
    .http()
    .delete(`${API}/messages/threads/${threadId}/messages/${messageId}`)
    .set(bearer(who));
}

export function markRead(
  t: TestApp,
  reader: Member,
  threadId: string,
  upToMessageId?: string,
): Promise<Res> {
  const req = t.http().post(`${API}/messages/threads/${threadId}/read`).set(bearer(reader));
  return upToMessageId === undefined ? req.send({}) : req.send({ upToMessageId });
}

export async function unread(
  t: TestApp,
  viewer: Member,
): Promise<{ total: number; threads: number }> {
  const res = await t.http().get(`${API}/messages/unread-count`).set(bearer(viewer));
  if (res.status !== 200) throw new Error(`unread: ${res.status}`);
  return res.body as { total: number; threads: number };
}

// ---- members and blocks ---------------------------------------------------------------------

export function recipients(
  t: TestApp,
  viewer: Member,
  query: Record<string, string | number> = {},
): Promise<Res> {
  return t.http().get(`${API}/messages/recipients`).query(query).set(bearer(viewer));
}

/** Every member in the viewer's directory (user ids, in order). */
export async function directory(t: TestApp, viewer: Member, q?: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const query: Record<string, string | number> = { limit: 100 };
    if (q !== undefined) query.q = q;
    if (cursor) query.cursor = cursor;
    const res = await recipients(t, viewer, query);
    if (res.status !== 200) throw new Error(`recipients: ${res.status}`);
    const page = res.body as PageJson<MemberSummaryJson>;
    out.push(...page.data.map((m) => m.userId));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

export function updateSettings(
  t: TestApp,
  member: Member,
  changes: { visibility?: 'visible' | 'hidden'; readReceipts?: boolean },
): Promise<Res> {
  return t.http().patch(`${API}/me/settings`).set(bearer(member)).send(changes);
}

export async function deactivate(t: TestApp, member: Member): Promise<void> {
  const res = await t
    .http()
    .delete(`${API}/admin/orgs/${member.orgId}/members/${member.userId}`)
    .set('authorization', `Bearer ${t.serviceToken()}`);
  if (res.status !== 204) throw new Error(`deactivate: ${res.status}`);
}

export async function reactivate(t: TestApp, member: Member): Promise<void> {
  const res = await t
    .http()
    .put(`${API}/admin/orgs/${member.orgId}/members/${member.userId}`)
    .set('authorization', `Bearer ${t.serviceToken()}`)
    .send({ displayName: member.displayName, role: member.role });
  if (res.status !== 200) throw new Error(`reactivate: ${res.status}`);
}

export function block(t: TestApp, blocker: Member, blocked: Member | string): Promise<Res> {
  const id = typeof blocked === 'string' ? blocked : blocked.userId;
  return t.http().post(`${API}/messages/users/${id}/block`).set(bearer(blocker));
}

export function unblock(t: TestApp, blocker: Member, blocked: Member | string): Promise<Res> {
  const id = typeof blocked === 'string' ? blocked : blocked.userId;
  return t.http().delete(`${API}/messages/users/${id}/block`).set(bearer(blocker));
}

// ---- the database, as its owner ----------------------------------------------------------------

/** Runs one statement as the database owner (bypasses RLS): for checks a user cannot make. */
export async function ownerQuery<T extends Record<string, unknown>>(
  t: TestApp,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: urlFor(t.database) });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows of a table for one thread (owner view), e.g. to prove a refused request wrote nothing. */
export async function countRows(
  t: TestApp,
  table: 'messages' | 'outbox_events' | 'message_threads' | 'message_reads' | 'user_blocks',
  where: string,
  params: unknown[],
): Promise<number> {
  const [row] = await ownerQuery<{ n: number }>(
    t,
    `select count(*)::int as n from ${table} where ${where}`,
    params,
  );
  return row.n;
}
