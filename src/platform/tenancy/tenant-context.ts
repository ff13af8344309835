import { AsyncLocalStorage } from 'node:async_hooks';
import type { PoolClient } from 'pg';
import type { MemberRole, Visibility } from '../auth/roles';

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
  /** The role the membership stores (never the token's claim). */
  role: MemberRole;
  member: MemberSnapshot;
}

export interface TenantScope {
  orgId: string;
  /** Null for service principals and background jobs acting for the org as a whole. */
  userId: string | null;
}

/** The unit of work: its scope, the connection its transaction runs on, and the member, if any. */
export interface TenantStore {
  scope: TenantScope;
  client: PoolClient;
  tenant?: Tenant;
}

const storage = new AsyncLocalStorage<TenantStore>();

/**
 * The per-request (or per-job) tenant context: the org and user the transaction was opened for,
 * and the connection every query of the unit of work must use.
 */
export const TenantContext = {
  run<T>(store: TenantStore, fn: () => T): T {
    return storage.run(store, fn);
  },
  store(): TenantStore | undefined {
    return storage.getStore();
  },
  scope(): TenantScope | undefined {
    return storage.getStore()?.scope;
  },
  tenant(): Tenant | undefined {
    return storage.getStore()?.tenant;
  },
};
