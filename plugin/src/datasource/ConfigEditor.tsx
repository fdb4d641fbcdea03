import React, { type ChangeEvent } from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';
import type { IsoscopeDataSourceOptions, IsoscopeSecureJsonData } from './types';

type Props = DataSourcePluginOptionsEditorProps<IsoscopeDataSourceOptions, IsoscopeSecureJsonData>;

/**
 * The service's URL and its token. The token goes to `secureJsonData`: Grafana encrypts it and adds
 * it on its server (the route in plugin.json), so the browser never sees it again.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;
  const urlInvalid = Boolean(jsonData.url) && !/^https?:\/\/[^\s/]+/.test(jsonData.url ?? '');

  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, url: event.target.value.trim().replace(/\/+$/, '') } });
  const onTokenChange = (event: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, secureJsonData: { token: event.target.value.trim() } });
  const onTokenReset = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, token: false },
      secureJsonData: { ...secureJsonData, token: '' },
    });

  return (
    <FieldSet label="Isoscope service">
      <Field
        label="URL"
        description="Where Grafana's server reaches the Isoscope service"
        invalid={urlInvalid}
        error={urlInvalid ? 'A URL starting with http:// or https://' : undefined}
      >
        <Input
          id="isoscope-url"
          width={50}
          value={jsonData.url ?? ''}
          placeholder="http://isoscope:8787"
          onChange={onUrlChange}
        />
      </Field>
      <Field
        label="Token"
        description="An Isoscope API token (isoscope token create --role admin); kept encrypted by Grafana"
      >
        <SecretInput
          id="isoscope-token"
          width={50}
          isConfigured={Boolean(secureJsonFields?.token)}
          value={secureJsonData?.token ?? ''}
          placeholder="isk_…"
          onChange={onTokenChange}
          onReset={onTokenReset}
        />
      </Field>
    </FieldSet>
  );
}
