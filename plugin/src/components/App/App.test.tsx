import React from 'react';
import { render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import type { AppRootProps } from '@grafana/data';
import { fakeBackend } from '../../test/fakeBackend';
import type { AppSettings } from '../../types';
import App from './App';

function renderApp(url: string, jsonData: AppSettings) {
  const calls = fakeBackend(() => ({ data: [] }));
  render(
    <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <Routes>
        {/* Grafana mounts an app's root page under /a/<plugin id>/ */}
        <Route
          path="/a/isoscope-anomaly-app/*"
          element={
            <App
              {...({ meta: { jsonData }, basename: '', path: '', query: {} } as unknown as AppRootProps<AppSettings>)}
            />
          }
        />
      </Routes>
    </MemoryRouter>
  );
  return calls;
}

describe('App', () => {
  it('routes to the pages and reaches the service through the configured data source', async () => {
    const calls = renderApp('/a/isoscope-anomaly-app/detectors', { datasourceUid: 'iso-2' });
    expect(await screen.findByText('No detectors yet')).toBeInTheDocument();
    expect(calls[0]!.url).toBe('/api/datasources/proxy/uid/iso-2/api/detectors');
  });

  it('defaults to the provisioned data source and the overview', async () => {
    const calls = renderApp('/a/isoscope-anomaly-app/nowhere', {});
    expect(
      await screen.findByText(
        /0 incidents firing now, 0 resolved in the last 24 hours \(0 anomalous points\), 0 detectors/
      )
    ).toBeInTheDocument();
    expect(calls[0]!.url).toBe('/api/datasources/proxy/uid/isoscope/api/detectors');
  });
});
