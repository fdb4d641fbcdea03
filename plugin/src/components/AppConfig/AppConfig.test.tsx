import React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { AppPluginMeta, PluginConfigPageProps } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { fakeBackend } from '../../test/fakeBackend';
import type { AppSettings } from '../../types';
import AppConfig from './AppConfig';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  // The picker lists Grafana's data sources, which only Grafana's server knows.
  DataSourcePicker: ({ current }: { current?: string }) => <div data-testid="picker">{current}</div>,
}));

function renderConfig(jsonData: AppSettings) {
  const plugin = {
    meta: { id: 'isoscope-anomaly-app', enabled: true, pinned: true, jsonData },
  } as unknown as PluginConfigPageProps<AppPluginMeta<AppSettings>>['plugin'];
  render(<AppConfig plugin={plugin} query={{} as never} />);
}

describe('AppConfig', () => {
  it('starts from the provisioned data source and tests the connection through it', async () => {
    const calls = fakeBackend(() => ({ data: { status: 'ok', version: '0.1.0', detectors: 2, influx: '1.8.10' } }));
    renderConfig({});
    expect(screen.getByTestId('picker')).toHaveTextContent('isoscope');
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(
      await screen.findByText('Isoscope 0.1.0 answers: 2 detectors, InfluxDB 1.8.10 reachable.')
    ).toBeInTheDocument();
    expect(calls[0]!.url).toBe('/api/datasources/proxy/uid/isoscope/api/grafana/health');
    expect(screen.getByRole('link', { name: /Service URL and token/ })).toHaveAttribute(
      'href',
      '/connections/datasources/edit/isoscope'
    );
  });

  it('saves the settings to the plugin, and says when the service is not reachable', async () => {
    const calls = fakeBackend((c) => (c.url.includes('/health') ? { status: 502, data: {} } : { data: {} }));
    const reload = jest.spyOn(locationService, 'reload').mockImplementation(() => {});
    renderConfig({ datasourceUid: 'iso-2' });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByText(/unreachable/)).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(/^Host dashboard/), { target: { value: 'hosts' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() =>
      expect(calls).toContainEqual({
        method: 'POST',
        url: '/api/plugins/isoscope-anomaly-app/settings',
        data: { enabled: true, pinned: true, jsonData: { datasourceUid: 'iso-2', hostDashboardUid: 'hosts' } },
      })
    );
    await waitFor(() => expect(reload).toHaveBeenCalled());
    reload.mockRestore();
  });
});
