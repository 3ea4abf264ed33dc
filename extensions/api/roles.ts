/**
 * Roles on the API: `viewer` reads everything, `operator` also acknowledges, silences, expires and
 * unblocks, `admin` also does configuration-level actions (audit log, erasure, rekey). Every route
 * declares the role it needs; without a declaration GET needs viewer and any other method operator.
 */
export type Role = 'viewer' | 'operator' | 'admin';
/** `anonymous`: answered without credentials even when auth is on (GET /api/session). */
export type RouteRole = Role | 'anonymous';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

const RANK: Record<RouteRole, number> = { anonymous: 0, viewer: 1, operator: 2, admin: 3 };

export function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator';
}

export function allows(have: Role | null, need: RouteRole): boolean {
  return need === 'anonymous' || (have !== null && RANK[have] >= RANK[need]);
}

export function isStateChanging(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
