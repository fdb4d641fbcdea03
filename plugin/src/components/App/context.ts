import { createContext, useContext } from 'react';
import { config } from '@grafana/runtime';
import type { IsoscopeClient } from '../../api/client';
import type { AppSettings } from '../../types';

export interface IsoscopeContextValue {
  client: IsoscopeClient;
  settings: AppSettings;
}

export const IsoscopeContext = createContext<IsoscopeContextValue | undefined>(undefined);

export function useIsoscope(): IsoscopeContextValue {
  const value = useContext(IsoscopeContext);
  if (!value) {
    throw new Error('useIsoscope() outside the Isoscope app');
  }
  return value;
}

const RANK = { Viewer: 1, Editor: 2, Admin: 3 } as const;
export type GrafanaRole = keyof typeof RANK;

/**
 * Whether the signed-in Grafana user has at least `role` in this organisation. Actions that need
 * more are hidden or disabled; the data source route and the service enforce the same.
 */
export function hasRole(role: GrafanaRole): boolean {
  const user = config.bootData?.user;
  if (user?.isGrafanaAdmin) {
    return true;
  }
  const mine = (user?.orgRole ?? 'Viewer') as GrafanaRole;
  return (RANK[mine] ?? 0) >= RANK[role];
}
