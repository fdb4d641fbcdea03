import { grafanaLinkBase } from './alertmanager.js';

describe('grafanaLinkBase', () => {
  it('keeps scheme, host, port and sub-path, and drops the credentials, query and trailing slashes', () => {
    expect(grafanaLinkBase('https://ops:s3cret@grafana.example.com/grafana//?orgId=1#x')).toBe(
      'https://grafana.example.com/grafana',
    );
    expect(grafanaLinkBase('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000');
    expect(grafanaLinkBase('http://grafana:3000')).toBe('http://grafana:3000');
  });

  it('gives relative links when Grafana is unset or its URL cannot be read', () => {
    expect(grafanaLinkBase(undefined)).toBe('');
    expect(grafanaLinkBase('')).toBe('');
    expect(grafanaLinkBase('http://[bad')).toBe('');
  });
});
