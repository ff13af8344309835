import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PoolClient } from 'pg';
import type { MemberRole, Visibility } from '../../members/membership.entity';

/** The caller's membership as resolved inside the request's transaction. */
export interface MemberSnapshot {
  userId: string;
  displayName: string;
  role: MemberRole;
  visibility: Visibility;
  readReceipts: boolean;
  receiptsSince: Date;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Who is acting, in which org. Services take it explicitly. */
export interface Tenant {
  orgId: string;
  userId: string;
  role: MemberRole;
  member: MemberSnapshot;
}

export interface TenantScope {
  orgId: string;
  /** Null for service principals and background jobs acting for the org as a whole. */
  userId: string | null;
}

/** One of the two: a raw connection in a transaction (hot paths), or the ORM's transactional EntityManager. */
export interface TenantStore {
  scope: TenantScope;
  client?: PoolClient;
  em?: EntityManager;
  tenant?: Tenant;
}

const storage = new AsyncLocalStorage<TenantStore>();

/**
 * The per-request (or per-job) tenant context: the org and user the transaction was opened for,
 * and the transaction every query of the unit of work must use.
 */
export const TenantContext = {
  run<T>(store: TenantStore, fn: () => T): T {
    return storage.run(store, fn);
  },
  store(): TenantStore | undefined {
    return storage.getStore();
  },
  /** The transactional EntityManager of the current tenant scope (routes marked @UsesOrm()). */
  em(): EntityManager {
    const store = storage.getStore();
    if (!store) throw new Error('No tenant transaction: run this inside TenantRunner.');
    if (!store.em)
      throw new Error('This unit of work runs without the ORM: mark the route @UsesOrm().');
    return store.em;
  },
  scope(): TenantScope | undefined {
    return storage.getStore()?.scope;
  },
  tenant(): Tenant | undefined {
    return storage.getStore()?.tenant;
  },
};
