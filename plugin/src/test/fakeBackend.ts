import { of, throwError } from 'rxjs';
import { setBackendSrv, type BackendSrv, type BackendSrvRequest } from '@grafana/runtime';

export interface Call {
  method: string;
  url: string;
  data?: unknown;
}

export interface Reply {
  status?: number;
  data?: unknown;
}

/**
 * Stands in for Grafana's backendSrv in unit tests: records every request (method, proxied URL,
 * body) and answers from `answer`; a status of 400 or more is thrown the way backendSrv throws.
 */
export function fakeBackend(answer: (call: Call) => Reply | undefined = () => ({ data: {} })): Call[] {
  const calls: Call[] = [];
  const fetch = (options: BackendSrvRequest) => {
    const call: Call = {
      method: options.method ?? 'GET',
      url: options.url,
      ...(options.data !== undefined ? { data: options.data } : {}),
    };
    calls.push(call);
    const reply = answer(call) ?? { status: 404, data: { message: `no fake for ${call.method} ${call.url}` } };
    const status = reply.status ?? 200;
    if (status >= 400 || status === 0) {
      return throwError(() => ({ status, data: reply.data ?? {}, statusText: '', config: options }));
    }
    return of({
      data: reply.data,
      status,
      ok: true,
      headers: new Headers(),
      redirected: false,
      statusText: 'OK',
      type: 'basic',
      url: options.url,
      config: options,
    });
  };
  setBackendSrv({ fetch } as unknown as BackendSrv);
  return calls;
}
