import { from, type Observable } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';

/**
 * Grafana's backendSrv as the plugin sees it, over the browser's fetch: requests go to the stand-in for Grafana's
 * server, which plays Grafana's data source proxy. Errors are thrown in Grafana's FetchError shape.
 */
export function previewBackendSrv(role: () => string): BackendSrv {
  const fetchIt = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> =>
    from(
      (async () => {
        const response = await window.fetch(options.url, {
          method: options.method ?? 'GET',
          headers: { 'content-type': 'application/json', 'x-grafana-org-role': role() },
          body: options.data === undefined ? undefined : JSON.stringify(options.data),
        });
        const text = await response.text();
        let data: unknown = text;
        try {
          data = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        if (!response.ok) {
          throw { status: response.status, statusText: response.statusText, data, config: options };
        }
        return {
          data: data as T,
          status: response.status,
          statusText: response.statusText,
          ok: true,
          headers: response.headers,
          redirected: response.redirected,
          type: response.type,
          url: response.url,
          config: options,
        };
      })()
    );
  const unsupported = () => Promise.reject(new Error('the preview only implements fetch'));
  return {
    fetch: fetchIt,
    get: unsupported,
    post: unsupported,
    put: unsupported,
    patch: unsupported,
    delete: unsupported,
    request: unsupported,
    datasourceRequest: unsupported,
    resolveCancelerIfExists: () => {},
    chunked: () => {
      throw new Error('the preview only implements fetch');
    },
  } as unknown as BackendSrv;
}
