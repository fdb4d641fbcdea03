import React, { useState } from 'react';
import { lastValueFrom } from 'rxjs';
import type { AppPluginMeta, PluginConfigPageProps } from '@grafana/data';
import { DataSourcePicker, getBackendSrv, locationService } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, LinkButton, Stack } from '@grafana/ui';
import { IsoscopeClient, toIsoscopeError } from '../../api/client';
import { DATASOURCE_TYPE, DEFAULT_DATASOURCE_UID } from '../../constants';
import type { AppSettings } from '../../types';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<AppSettings>> {}

/**
 * Which Isoscope data source the pages use. The service URL and token are that data source's
 * settings (provisioned as uid `isoscope`), so they live in one place and the token stays on the server.
 */
export default function AppConfig({ plugin }: AppConfigProps) {
  const { enabled, pinned, jsonData } = plugin.meta;
  const [settings, setSettings] = useState<AppSettings>({
    datasourceUid: jsonData?.datasourceUid ?? DEFAULT_DATASOURCE_UID,
    hostDashboardUid: jsonData?.hostDashboardUid ?? 'isoscope-host-drilldown',
  });
  const [status, setStatus] = useState<{ severity: 'success' | 'error'; text: string }>();

  const test = async () => {
    try {
      const client = new IsoscopeClient(
        `/api/datasources/proxy/uid/${encodeURIComponent(settings.datasourceUid ?? '')}`
      );
      const health = await client.health();
      setStatus({
        severity: 'success',
        text: `Isoscope ${health.version} answers: ${health.detectors} detectors, InfluxDB ${health.influx} reachable.`,
      });
    } catch (e) {
      setStatus({ severity: 'error', text: toIsoscopeError(e).message });
    }
  };

  const save = async () => {
    try {
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${plugin.meta.id}/settings`,
          method: 'POST',
          data: { enabled, pinned, jsonData: settings },
        })
      );
      // Grafana reads app settings at start: reload so the pages use the new data source.
      locationService.reload();
    } catch (e) {
      setStatus({ severity: 'error', text: toIsoscopeError(e).message });
    }
  };

  return (
    <FieldSet label="Isoscope service">
      <Field label="Data source" description="The Isoscope data source whose URL and token the pages use">
        <DataSourcePicker
          pluginId={DATASOURCE_TYPE}
          current={settings.datasourceUid}
          width={40}
          noDefault
          onChange={(ds) => setSettings({ ...settings, datasourceUid: ds.uid })}
        />
      </Field>
      <Field label="Host dashboard" description="Dashboard uid that explanations link to (with var-host)">
        <Input
          id="isoscope-host-dashboard"
          width={40}
          value={settings.hostDashboardUid ?? ''}
          onChange={(e) => setSettings({ ...settings, hostDashboardUid: e.currentTarget.value.trim() })}
        />
      </Field>
      {status && (
        <Alert title={status.severity === 'success' ? 'Connected' : 'Not connected'} severity={status.severity}>
          {status.text}
        </Alert>
      )}
      <Stack gap={1}>
        <Button onClick={save}>Save settings</Button>
        <Button variant="secondary" onClick={test}>
          Test connection
        </Button>
        <LinkButton
          variant="secondary"
          icon="external-link-alt"
          href={`/connections/datasources/edit/${settings.datasourceUid}`}
        >
          Service URL and token
        </LinkButton>
      </Stack>
    </FieldSet>
  );
}
