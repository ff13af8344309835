import { mintToken } from '../src/platform/auth/tokens';
import type { MemberRole } from '../src/platform/auth/roles';
import { withOwner } from './db';

export interface LoadUser {
  orgId: string;
  userId: string;
  role: MemberRole;
  /** The membership's display name: the token carries it, so requests never rename anyone. */
  name: string;
  token: string;
  authorization: string;
}

/** One of a load user's threads. */
export interface LoadThread {
  user: number;
  threadId: string;
  /** The user may send here (does not block the other, who is active). */
  canSend: boolean;
  /** A recent message the user can see (what a polling client last has), for `after`. */
  afterId: string | null;
}

export interface Fixtures {
  users: LoadUser[];
  threads: LoadThread[];
  sendable: LoadThread[];
  pollable: LoadThread[];
  /** The thread with the most messages and the member with the most threads (for plans). */
  heaviestThread: { orgId: string; threadId: string; userId: string; messages: number };
  busiestMember: { orgId: string; userId: string; threads: number };
}

/**
 * Picks `count` active members evenly over the orgs (those with at least one thread), their
 * threads, and for each thread a message near its end that they can see; mints a token for each.
 */
export async function loadFixtures(
  ownerUrl: string,
  secret: string,
  count: number,
): Promise<Fixtures> {
  return withOwner(ownerUrl, async (c) => {
    const { rows: orgs } = await c.query<{ n: string }>('select count(*) as n from orgs');
    const perOrg = Math.max(1, Math.ceil(count / Number(orgs[0].n)));
    const { rows: members } = await c.query<{
      orgId: string;
      userId: string;
      role: MemberRole;
      name: string;
    }>(
      `select org_id as "orgId", user_id as "userId", role, display_name as name
         from (select m.*, row_number() over (partition by m.org_id order by random()) as r
                 from memberships m
                where m.active
                  and exists (select 1 from thread_participants p
                               where p.org_id = m.org_id and p.user_id = m.user_id)) x
        where r <= $1
        order by org_id, display_name
        limit $2`,
      [perOrg, count],
    );
    const users: LoadUser[] = members.map((m) => {
      // Twelve hours: within the production shape's JWT_MAX_AGE (24 h), longer than any run.
      const token = mintToken(
        secret,
        { sub: m.userId, orgId: m.orgId, role: m.role, name: m.name },
        { expiresInSeconds: 12 * 3600 },
      );
      return { ...m, token, authorization: `Bearer ${token}` };
    });
    const index = new Map(users.map((u, i) => [`${u.orgId}/${u.userId}`, i]));

    const { rows } = await c.query<{
      orgId: string;
      userId: string;
      threadId: string;
      canSend: boolean;
      afterId: string | null;
    }>(
      `select p.org_id as "orgId", p.user_id as "userId", p.thread_id as "threadId",
              not p.blocks_other and o.active as "canSend", a.id as "afterId"
         from thread_participants p
         join memberships o on o.org_id = p.org_id and o.user_id = p.other_user_id
         left join lateral (
           select m.id from messages m
            where m.thread_id = p.thread_id and m.seq <= greatest(p.last_visible_seq - 2, 1)
              and (m.sender_id = p.user_id or (not m.withheld and not p.blocks_other))
            order by m.seq desc limit 1) a on true
        where (p.org_id, p.user_id) in (select x.org_id, x.user_id
                                           from unnest($1::uuid[], $2::uuid[]) x(org_id, user_id))`,
      [users.map((u) => u.orgId), users.map((u) => u.userId)],
    );
    const threads: LoadThread[] = rows.map((r) => ({
      user: index.get(`${r.orgId}/${r.userId}`)!,
      threadId: r.threadId,
      canSend: r.canSend,
      afterId: r.afterId,
    }));

    const { rows: heavy } = await c.query<{
      orgId: string;
      threadId: string;
      userId: string;
      messages: number;
    }>(
      // The longest thread whose plans can all run: both members active, neither blocking the
      // other (the plans' send really runs, rolled back).
      `select t.org_id as "orgId", t.id as "threadId", t.user_low as "userId", t.last_seq as messages
         from message_threads t
         join memberships lo on lo.org_id = t.org_id and lo.user_id = t.user_low and lo.active
         join memberships hi on hi.org_id = t.org_id and hi.user_id = t.user_high and hi.active
        where not exists (select 1 from user_blocks b
                           where b.org_id = t.org_id
                             and b.blocker_id in (t.user_low, t.user_high)
                             and b.blocked_id in (t.user_low, t.user_high))
        order by t.last_seq desc limit 1`,
    );
    const { rows: busy } = await c.query<{ orgId: string; userId: string; threads: string }>(
      `select org_id as "orgId", user_id as "userId", count(*) as threads
         from thread_participants group by org_id, user_id order by count(*) desc limit 1`,
    );
    return {
      users,
      threads,
      sendable: threads.filter((t) => t.canSend),
      pollable: threads.filter((t) => t.afterId !== null),
      heaviestThread: heavy[0],
      busiestMember: { ...busy[0], threads: Number(busy[0].threads) },
    };
  });
}
