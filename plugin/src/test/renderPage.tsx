import React from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { config } from '@grafana/runtime';
import { IsoscopeClient } from '../api/client';
import { IsoscopeContext } from '../components/App/context';
import { fakeBackend, type Call, type Reply } from './fakeBackend';

export const PROXY = '/api/datasources/proxy/uid/isoscope';

function Where() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

/**
 * Renders one app page at `url` (matched by `route`), with the real client over a fake backend that
 * answers from `answer`, as a user with `role`. The current location is shown in `data-testid=location`.
 */
export function renderPage(
  page: React.ReactElement,
  options: {
    route: string;
    url: string;
    answer: (call: Call) => Reply | undefined;
    role?: 'Viewer' | 'Editor' | 'Admin';
  }
) {
  config.bootData.user.orgRole = (options.role ?? 'Admin') as typeof config.bootData.user.orgRole;
  config.bootData.user.isGrafanaAdmin = false;
  const calls = fakeBackend(options.answer);
  const client = new IsoscopeClient(PROXY);
  const utils = render(
    <IsoscopeContext.Provider value={{ client, settings: { datasourceUid: 'isoscope' } }}>
      <MemoryRouter initialEntries={[options.url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <Routes>
          <Route path={options.route} element={page} />
          <Route path="*" element={<div>elsewhere</div>} />
        </Routes>
        <Where />
      </MemoryRouter>
    </IsoscopeContext.Provider>
  );
  return { ...utils, calls };
}

/** `GET /api/<path>` → data, and the rest by method and path, for the fake backend. */
export function routes(table: Record<string, unknown | ((call: Call) => Reply)>) {
  return (call: Call): Reply | undefined => {
    const path = call.url.slice(PROXY.length + '/api/'.length).split('?')[0];
    const hit = table[`${call.method} ${path}`];
    if (hit === undefined) {
      return undefined;
    }
    return typeof hit === 'function' ? (hit as (c: Call) => Reply)(call) : { data: hit };
  };
}
