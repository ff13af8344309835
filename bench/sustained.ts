import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from 'pg';
import { mintToken } from '../src/platform/auth/tokens';
import { WEBHOOK_EVENT_TYPES } from '../src/platform/queues/outbox-types';
import { withOwner } from './db';
import type { Fixtures } from './fixtures';
import { runHttp } from './load';
import { startSampling, type Sample, type Scope } from './sampler';
import { OperationSource } from './scenarios';
import type { Service } from './service';
import type { LoadResult } from './stats';
import { BenchStream, openAll, streamMembers } from './streams';

/**
 * The asynchronous half under sustained load (issue 19): the send scenario at full rate for a
 * minute or more while every consumer works: notifications, a webhook endpoint per org delivering
 * every event type to a local receiver, and open event streams. Every second the outbox's backlog
 * is read per stage (relay, each consumer, webhook deliveries): how many are pending and how old
 * the oldest is, from its commit. After the load, the run waits for the backlog to drain.
 */

/** The stages whose backlog is sampled: the relay, the outbox's consumers, the deliveries. */
export const STAGES = ['relay', 'notifications', 'webhooks', 'events', 'deliveries'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageFigures {
  /** Work completed during the load, and per second. */
  completed: number;
  perSecond: number;
  /** The oldest pending item's age, seconds: its largest value in steady state and overall. */
  steadyMaxAge: number;
  maxAge: number;
  /** Pending when the load stopped. */
  pendingAtEnd: number;
}

export interface SustainedRun {
  workers: number;
  seconds: number;
  /** Seconds at the start left out of "steady state" (the pipeline filling). */
  rampSeconds: number;
  send: LoadResult;
  streams: number;
  endpoints: number;
  /** Webhook requests the receiver answered during the load and the drain. */
  received: number;
  stages: Record<Stage, StageFigures>;
  /** Seconds from the end of the load until nothing was pending (null: not within the wait). */
  drainSeconds: number | null;
  /** The worker processes' CPU per completed item (all stages but the relay), ms. */
  workerCpuMsPerItem: number | null;
  sample: Sample;
  /** Every second: the pending count and oldest age of each stage. */
  timeline: { t: number; stages: Record<Stage, { pending: number; oldest: number }> }[];
}

const BACKLOG = `
  select stage, pending::int as pending, oldest_age_seconds::float8 as oldest from rm_outbox_backlog()
  union all
  select 'deliveries', count(*)::int,
         coalesce(extract(epoch from now() - min(coalesce(e.created_at, d.created_at))), 0)::float8
    from webhook_deliveries d left join outbox_events e on e.id = d.event_id
   where d.status = 'pending'`;

async function backlog(c: Client): Promise<Record<Stage, { pending: number; oldest: number }>> {
  const { rows } = await c.query<{ stage: Stage; pending: number; oldest: number }>(BACKLOG);
  const out = Object.fromEntries(STAGES.map((s) => [s, { pending: 0, oldest: 0 }])) as Record<
    Stage,
    { pending: number; oldest: number }
  >;
  for (const r of rows) if (r.stage in out) out[r.stage] = { pending: r.pending, oldest: r.oldest };
  return out;
}

/** Completed work per stage in [since, until). */
async function completed(c: Client, since: Date, until: Date): Promise<Record<Stage, number>> {
  const { rows } = await c.query<{ stage: Stage; n: number }>(
    `select 'relay' as stage, count(*)::int as n from outbox_events
      where published_at >= $1 and published_at < $2
     union all
     select consumer, count(*)::int from event_consumers
      where done_at >= $1 and done_at < $2 group by consumer
     union all
     select 'deliveries', count(*)::int from webhook_attempts
      where started_at >= $1 and started_at < $2 and status_code between 200 and 299`,
    [since, until],
  );
  const out = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  for (const r of rows) if (r.stage in out) out[r.stage] += r.n;
  return out;
}

/** A webhook receiver that answers every POST 204 at once (keep-alive), counting them. */
async function startReceiver(): Promise<{
  url: string;
  count: () => number;
  stop(): Promise<void>;
}> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One endpoint per org of the load (every event type), created by an org admin through the API. */
async function createEndpoints(
  svc: Service,
  ownerUrl: string,
  secret: string,
  orgIds: string[],
  url: string,
): Promise<{ remove(): Promise<void>; count: number }> {
  const admins = await withOwner(ownerUrl, async (c) => {
    // The first member of each org becomes its admin if it has none (roles come from memberships).
    await c.query(
      `update memberships m set role = 'org_admin'
        where m.active and m.org_id = any($1::uuid[])
          and not exists (select 1 from memberships a
                           where a.org_id = m.org_id and a.active and a.role = 'org_admin')
          and m.user_id = (select min(x.user_id::text)::uuid from memberships x
                            where x.org_id = m.org_id and x.active)`,
      [orgIds],
    );
    const { rows } = await c.query<{ orgId: string; userId: string; name: string }>(
      `select distinct on (org_id) org_id as "orgId", user_id as "userId", display_name as name
         from memberships where active and role = 'org_admin' and org_id = any($1::uuid[])
        order by org_id, user_id`,
      [orgIds],
    );
    return rows;
  });
  const created: { id: string; authorization: string }[] = [];
  for (const admin of admins) {
    const authorization = `Bearer ${mintToken(
      secret,
      { sub: admin.userId, orgId: admin.orgId, role: 'org_admin', name: admin.name },
      { expiresInSeconds: 3600 },
    )}`;
    const response = await fetch(`${svc.url}/api/v1/webhooks/endpoints`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events: [...WEBHOOK_EVENT_TYPES] }),
    });
    if (response.status !== 201) {
      throw new Error(
        `creating a webhook endpoint answered ${response.status}: ${await response.text()}`,
      );
    }
    const { id } = (await response.json()) as { id: string };
    created.push({ id, authorization });
  }
  return {
    count: created.length,
    remove: async () => {
      for (const e of created) {
        await fetch(`${svc.url}/api/v1/webhooks/endpoints/${e.id}`, {
          method: 'DELETE',
          headers: { authorization: e.authorization },
        });
      }
    },
  };
}

/** Streams held by the recipients of the load's sendable threads. */
async function openRecipientStreams(
  url: string,
  ownerUrl: string,
  secret: string,
  fixtures: Fixtures,
  count: number,
): Promise<BenchStream[]> {
  if (count <= 0) return [];
  const members = await streamMembers(
    ownerUrl,
    secret,
    `m.user_id in (select p.user_id from thread_participants p where p.thread_id = any($1::uuid[]))
     order by m.user_id limit $2`,
    [fixtures.sendable.map((t) => t.threadId), count],
  );
  const streams = Array.from(
    { length: count },
    (_, i) => new BenchStream(url, members[i % members.length]),
  );
  await openAll(streams, 50);
  return streams;
}

export async function runSustained(o: {
  svc: Service;
  ownerUrl: string;
  secret: string;
  scope: Scope;
  fixtures: Fixtures;
  connections: number;
  seconds: number;
  streams: number;
  tag: string;
  drainTimeoutMs?: number;
}): Promise<SustainedRun> {
  const receiver = await startReceiver();
  const orgIds = [...new Set(o.fixtures.users.map((u) => u.orgId))];
  const endpoints = await createEndpoints(o.svc, o.ownerUrl, o.secret, orgIds, receiver.url);
  const streams = await openRecipientStreams(
    o.svc.url,
    o.ownerUrl,
    o.secret,
    o.fixtures,
    o.streams,
  );
  const rampSeconds = Math.min(15, Math.floor(o.seconds / 4));
  try {
    return await withOwner(o.ownerUrl, async (c) => {
      const timeline: SustainedRun['timeline'] = [];
      const t0 = Date.now();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const at = Date.now();
          timeline.push({ t: (at - t0) / 1000, stages: await backlog(c) });
          await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - at))));
        }
      })();
      const cpu = startSampling(o.scope, {
        api: o.svc.api.pid,
        worker: o.svc.workers.map((w) => w.pid!),
      });
      const since = new Date();
      const send = await runHttp({
        url: o.svc.url,
        connections: o.connections,
        seconds: o.seconds,
        source: new OperationSource(o.fixtures, 'send', `sus${o.tag}`),
      });
      const until = new Date();
      const sample = cpu.stop();
      const loadEnd = (until.getTime() - t0) / 1000;
      // Drain: until every stage is empty, or the wait runs out.
      let drainSeconds: number | null = null;
      const deadline = Date.now() + (o.drainTimeoutMs ?? 120_000);
      while (Date.now() < deadline) {
        const last = timeline.at(-1);
        if (last && last.t > loadEnd && STAGES.every((s) => last.stages[s].pending === 0)) {
          drainSeconds = last.t - loadEnd;
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      sampling = false;
      await sampler;
      const done = await completed(c, since, until);
      const during = timeline.filter((p) => p.t <= loadEnd);
      const steady = during.filter((p) => p.t >= rampSeconds);
      const atEnd = during.at(-1)?.stages;
      const stages = Object.fromEntries(
        STAGES.map((s) => [
          s,
          {
            completed: done[s],
            perSecond: done[s] / send.seconds,
            steadyMaxAge: Math.max(0, ...steady.map((p) => p.stages[s].oldest)),
            maxAge: Math.max(0, ...timeline.map((p) => p.stages[s].oldest)),
            pendingAtEnd: atEnd?.[s].pending ?? 0,
          },
        ]),
      ) as Record<Stage, StageFigures>;
      const items = STAGES.filter((s) => s !== 'relay').reduce((n, s) => n + done[s], 0);
      return {
        workers: o.svc.workers.length,
        seconds: send.seconds,
        rampSeconds,
        send,
        streams: streams.length,
        endpoints: endpoints.count,
        received: receiver.count(),
        stages,
        drainSeconds,
        workerCpuMsPerItem: items ? (sample.cpu.worker * send.seconds * 1000) / items : null,
        sample,
        timeline,
      };
    });
  } finally {
    for (const s of streams) s.close();
    await endpoints.remove().catch(() => undefined);
    await receiver.stop();
  }
}

/** One line for the log: the send rate, each stage's rate and steady-state oldest age. */
export function describeSustained(r: SustainedRun): string {
  const stage = (s: Stage) =>
    `${s} ${r.stages[s].perSecond.toFixed(0)}/s (oldest ≤ ${r.stages[s].steadyMaxAge.toFixed(1)} s)`;
  return (
    `sustained, ${r.workers} worker${r.workers > 1 ? 's' : ''}: ${r.send.rps.toFixed(0)} sends/s for ` +
    `${r.seconds.toFixed(0)} s; ${STAGES.map(stage).join(', ')}; drained ` +
    `${r.drainSeconds === null ? 'not within the wait' : `${r.drainSeconds.toFixed(1)} s after`}; ` +
    `worker CPU ${r.workerCpuMsPerItem?.toFixed(2) ?? '–'} ms an item`
  );
}
