import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { DataSourceSettings } from '@grafana/data';
import { ConfigEditor } from './ConfigEditor';
import type { IsoscopeDataSourceOptions, IsoscopeSecureJsonData } from './types';

function settings(patch: Partial<DataSourceSettings<IsoscopeDataSourceOptions, IsoscopeSecureJsonData>> = {}) {
  return {
    id: 1,
    uid: 'isoscope',
    orgId: 1,
    name: 'Isoscope',
    type: 'isoscope-anomaly-datasource',
    typeName: 'Isoscope',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    readOnly: false,
    withCredentials: false,
    jsonData: { url: 'http://isoscope:8080' },
    secureJsonFields: {},
    ...patch,
  } as DataSourceSettings<IsoscopeDataSourceOptions, IsoscopeSecureJsonData>;
}

describe('ConfigEditor', () => {
  it('keeps the URL without a trailing slash and the token in secureJsonData', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={settings()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText(/^URL/), { target: { value: ' http://iso:8080/ ' } });
    expect(onOptionsChange).toHaveBeenLastCalledWith(expect.objectContaining({ jsonData: { url: 'http://iso:8080' } }));
    fireEvent.change(screen.getByPlaceholderText('isk_…'), { target: { value: 'isk_secret' } });
    expect(onOptionsChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ secureJsonData: { token: 'isk_secret' } })
    );
    expect(onOptionsChange.mock.calls.every(([o]) => !('token' in o.jsonData))).toBe(true);
  });

  it('shows a stored token as configured, and a reset clears it', () => {
    const onOptionsChange = jest.fn();
    render(
      <ConfigEditor options={settings({ secureJsonFields: { token: true } })} onOptionsChange={onOptionsChange} />
    );
    fireEvent.click(screen.getByRole('button', { name: /reset/i }));
    expect(onOptionsChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ secureJsonFields: { token: false }, secureJsonData: { token: '' } })
    );
  });

  it('says what is wrong with a URL that is not http(s)', () => {
    render(<ConfigEditor options={settings({ jsonData: { url: 'isoscope:8080' } })} onOptionsChange={jest.fn()} />);
    expect(screen.getByText('A URL starting with http:// or https://')).toBeInTheDocument();
  });
});
