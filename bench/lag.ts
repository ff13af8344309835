import type { Client } from 'pg';
import { withOwner } from './db';

/** How long messages took to become inbox notifications, from the database's own timestamps. */
export interface LagResult {
  /** message.created events of the window that need a notification. */
  events: number;
  /** Of those, not done when the load stopped. */
  pendingAtEnd: number;
  /** Seconds from the end of the load until none was pending (null: gave up). */
  drainSeconds: number | null;
  /** done_at − created_at, ms. */
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** published_at − created_at (the relay's share), ms. */
  relayP50Ms: number | null;
  relayP99Ms: number | null;
}

/** Events of [since, ∞) that the notifications consumer has not finished. */
const PENDING = `
  select count(*)::int as n from outbox_events e
   where e.created_at >= $1 and e.type = 'message.created'
     and coalesce(e.data ->> 'first', '') <> 'true'
     and (e.published_at is null
          or exists (select 1 from event_consumers c
                      where c.event_id = e.id and c.consumer = 'notifications'
                        and c.done_at is null and c.dead_at is null))`;

async function pending(c: Client, since: Date): Promise<number> {
  const { rows } = await c.query<{ n: number }>(PENDING, [since]);
  return rows[0].n;
}

/**
 * Right after a load stops: counts what is still pending, waits for the worker to drain it, then
 * computes the lag (`event_consumers.done_at − outbox_events.created_at`, consumer
 * 'notifications') of the events created during the load, before pruning can remove them.
 */
export async function notificationLag(
  ownerUrl: string,
  since: Date,
  until: Date,
  drainTimeoutMs = 60_000,
): Promise<LagResult> {
  return withOwner(ownerUrl, async (c) => {
    const pendingAtEnd = await pending(c, since);
    const start = Date.now();
    let drainSeconds: number | null = null;
    while (Date.now() - start < drainTimeoutMs) {
      if ((await pending(c, since)) === 0) {
        drainSeconds = (Date.now() - start) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await c.query<{
      events: number;
      lag: number[] | null;
      max: number | null;
      relay: number[] | null;
    }>(
      `select count(*)::int as events,
              percentile_cont(array[0.5, 0.9, 0.99]) within group (
                order by extract(epoch from c.done_at - e.created_at) * 1000) as lag,
              max(extract(epoch from c.done_at - e.created_at) * 1000)::float8 as max,
              percentile_cont(array[0.5, 0.99]) within group (
                order by extract(epoch from e.published_at - e.created_at) * 1000) as relay
         from outbox_events e
         join event_consumers c on c.event_id = e.id and c.consumer = 'notifications'
        where e.created_at >= $1 and e.created_at <= $2 and e.type = 'message.created'
          and c.done_at is not null`,
      [since, until],
    );
    const r = rows[0];
    const { rows: all } = await c.query<{ n: number }>(
      `select count(*)::int as n from outbox_events e
        where e.created_at >= $1 and e.created_at <= $2 and e.type = 'message.created'
          and coalesce(e.data ->> 'first', '') <> 'true'
          and (e.published_at is null or e.published_at > e.created_at)`,
      [since, until],
    );
    return {
      events: all[0].n,
      pendingAtEnd,
      drainSeconds,
      p50Ms: r.lag?.[0] ?? null,
      p90Ms: r.lag?.[1] ?? null,
      p99Ms: r.lag?.[2] ?? null,
      maxMs: r.max,
      relayP50Ms: r.relay?.[0] ?? null,
      relayP99Ms: r.relay?.[1] ?? null,
    };
  });
}

/** Waits until no event since `since` is pending; returns the seconds it took (null: gave up). */
export async function drain(
  ownerUrl: string,
  since: Date,
  timeoutMs = 60_000,
): Promise<number | null> {
  return withOwner(ownerUrl, async (c) => {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if ((await pending(c, since)) === 0) return (Date.now() - start) / 1000;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  });
}

/**
 * The floor's sends write outbox events no worker is running for; marks them published so that
 * the next service start does not spend its first seconds relaying them.
 */
export async function settleOutbox(ownerUrl: string): Promise<number> {
  return withOwner(ownerUrl, async (c) => {
    const result = await c.query(
      `update outbox_events set published_at = now() where published_at is null`,
    );
    return result.rowCount ?? 0;
  });
}
