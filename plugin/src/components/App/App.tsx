import React, { useMemo } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import type { AppRootProps } from '@grafana/data';
import { IsoscopeClient } from '../../api/client';
import { DEFAULT_DATASOURCE_UID, ROUTES, prefixRoute } from '../../constants';
import { DetectorDetail } from '../../pages/DetectorDetail/DetectorDetail';
import { DetectorEditor } from '../../pages/DetectorEditor/DetectorEditor';
import { Detectors } from '../../pages/Detectors/Detectors';
import { Explain } from '../../pages/Explain/Explain';
import { Explorer } from '../../pages/Explorer/Explorer';
import { Incidents } from '../../pages/Incidents/Incidents';
import { Overview } from '../../pages/Overview/Overview';
import { Suppressions } from '../../pages/Suppressions/Suppressions';
import type { AppSettings } from '../../types';
import { IsoscopeContext } from './context';

/** The app's pages; each reaches the service through the Isoscope data source's proxy. */
export default function App({ meta }: AppRootProps<AppSettings>) {
  const settings = useMemo(() => meta.jsonData ?? {}, [meta.jsonData]);
  const uid = settings.datasourceUid || DEFAULT_DATASOURCE_UID;
  const value = useMemo(
    () => ({ client: new IsoscopeClient(`/api/datasources/proxy/uid/${encodeURIComponent(uid)}`), settings }),
    [uid, settings]
  );
  return (
    <IsoscopeContext.Provider value={value}>
      <Routes>
        <Route path={ROUTES.Overview} element={<Overview />} />
        <Route path={ROUTES.Detectors} element={<Detectors />} />
        <Route path={`${ROUTES.Detectors}/new`} element={<DetectorEditor />} />
        <Route path={`${ROUTES.Detectors}/:id`} element={<DetectorDetail />} />
        <Route path={`${ROUTES.Detectors}/:id/edit`} element={<DetectorEditor />} />
        <Route path={ROUTES.Explorer} element={<Explorer />} />
        <Route path={ROUTES.Explain} element={<Explain />} />
        <Route path={ROUTES.Incidents} element={<Incidents />} />
        <Route path={ROUTES.Suppressions} element={<Suppressions />} />
        <Route path="*" element={<Navigate replace to={prefixRoute(ROUTES.Overview)} />} />
      </Routes>
    </IsoscopeContext.Provider>
  );
}
