import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

/** A proxy route of a Grafana data source's plugin.json. */
interface PluginRoute {
  path: string;
  method?: string;
  reqRole?: 'Viewer' | 'Editor' | 'Admin';
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

const RANK = { Viewer: 1, Editor: 2, Admin: 3 } as const;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Where the plugin preview lives in the repository: its page, its bundle and the data source's routes. */
export function previewPaths(repoRoot: string) {
  return {
    webpackConfig: join(repoRoot, 'plugin/preview/webpack.config.cjs'),
    indexHtml: join(repoRoot, 'plugin/preview/index.html'),
    assets: join(repoRoot, 'plugin/.preview'),
    routes: join(repoRoot, 'plugin/src/datasource/plugin.json'),
  };
}

/** Bundles the preview page (the plugin's sources with the real @grafana/* packages); seconds. */
export function buildPreview(repoRoot: string): void {
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules/webpack/bin/webpack.js'), '-c', previewPaths(repoRoot).webpackConfig],
    { cwd: repoRoot, stdio: 'pipe' },
  );
}

export interface GrafanaStandIn {
  url: string;
  /** What the stand-in proxy forwarded or refused, for tests to check. */
  log: Array<{ method: string; path: string; status: number }>;
  /** The annotations stored by /api/annotations, oldest first. */
  annotations: StandInAnnotation[];
  close(): Promise<void>;
}

/** An annotation as Grafana stores and answers it (the fields Grafana's API documents). */
export interface StandInAnnotation {
  id: number;
  dashboardUID: string;
  panelId: number;
  userId: number;
  login: string;
  time: number;
  timeEnd: number;
  created: number;
  updated: number;
  text: string;
  tags: string[];
}

/**
 * Grafana's annotations API (/api/annotations) as Grafana answers it: POST adds one for the
 * signed-in user, PATCH /:id edits one (a new `updated`), DELETE /:id removes it; GET filters by
 * a span overlapping [from, to] (both given), by tags (all of them, any with matchAny=true),
 * newest first, at most `limit` (default 100). A request with a Bearer token must carry the
 * service account's token (`serviceAccountToken`; login `sa-<name>`), otherwise 401; one without
 * is the signed-in browser user named by `x-grafana-user` (default admin).
 */
async function annotationsApi(
  req: IncomingMessage,
  res: ServerResponse,
  store: StandInAnnotation[],
  serviceAccount: { token: string; login: string } | undefined,
  nextId: () => number,
): Promise<void> {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const url = new URL(req.url ?? '/', 'http://standin');
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  let login = (req.headers['x-grafana-user'] as string | undefined) ?? 'admin';
  if (bearer !== undefined) {
    if (!serviceAccount || bearer !== serviceAccount.token) return send(401, { message: 'Invalid API key' });
    login = serviceAccount.login;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: Record<string, unknown> = {};
  if (chunks.length) {
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(400, { message: 'bad request data' });
    }
  }
  const id = /^\/api\/annotations\/(\d+)$/.exec(url.pathname)?.[1];
  const stamp = (previous = 0): number => Math.max(Date.now(), previous + 1);
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
  const tags = (v: unknown, fallback: string[]): string[] =>
    Array.isArray(v) ? v.map((t) => String(t)) : fallback;
  if (req.method === 'POST' && url.pathname === '/api/annotations') {
    const created = stamp();
    const time = num(body.time, created);
    const a: StandInAnnotation = {
      id: nextId(),
      dashboardUID: typeof body.dashboardUID === 'string' ? body.dashboardUID : '',
      panelId: num(body.panelId, 0),
      userId: 1,
      login,
      time,
      timeEnd: num(body.timeEnd, time),
      created,
      updated: created,
      text: typeof body.text === 'string' ? body.text : '',
      tags: tags(body.tags, []),
    };
    store.push(a);
    return send(200, { message: 'Annotation added', id: a.id });
  }
  if (id !== undefined) {
    const at = store.findIndex((a) => a.id === Number(id));
    if (at < 0) return send(404, { message: 'Annotation not found' });
    const a = store[at]!;
    if (req.method === 'PATCH') {
      store[at] = {
        ...a,
        time: num(body.time, a.time),
        timeEnd: num(body.timeEnd, a.timeEnd),
        text: typeof body.text === 'string' ? body.text : a.text,
        tags: tags(body.tags, a.tags),
        updated: stamp(a.updated),
      };
      return send(200, { message: 'Annotation patched' });
    }
    if (req.method === 'DELETE') {
      store.splice(at, 1);
      return send(200, { message: 'Annotation deleted' });
    }
  }
  if (req.method === 'GET' && url.pathname === '/api/annotations') {
    const q = url.searchParams;
    const from = Number(q.get('from') ?? 0);
    const to = Number(q.get('to') ?? 0);
    const wanted = q.getAll('tags');
    const any = q.get('matchAny') === 'true';
    const limit = Number(q.get('limit') ?? 100) || 100;
    const found = store
      .filter((a) => !(from > 0 && to > 0) || (a.time <= to && a.timeEnd >= from))
      .filter(
        (a) =>
          wanted.length === 0 ||
          (any ? wanted.some((t) => a.tags.includes(t)) : wanted.every((t) => a.tags.includes(t))),
      )
      .sort((a, b) => b.time * 1000 + b.timeEnd - (a.time * 1000 + a.timeEnd))
      .slice(0, limit);
    return send(200, found);
  }
  send(405, { message: `${req.method} ${url.pathname} is not part of the stand-in's annotations API` });
}

/**
 * A stand-in for Grafana's server, for the plugin preview and its browser test (Grafana itself
 * cannot run here): serves the preview page, and plays Grafana's data source proxy for
 * `/api/datasources/proxy/uid/isoscope/…` with the routes of the data source's plugin.json, as
 * Grafana applies them: the first route whose method and path prefix match, `reqRole` against the
 * signed-in role (header `x-grafana-org-role`), the token added from the secure settings.
 */
export async function startGrafanaStandIn(options: {
  repoRoot: string;
  serviceUrl: string;
  token: string;
  port?: number;
  /** A service account's token that /api/annotations accepts (its login `sa-isoscope`). */
  serviceAccountToken?: string;
}): Promise<GrafanaStandIn> {
  const paths = previewPaths(options.repoRoot);
  const routes = (JSON.parse(readFileSync(paths.routes, 'utf8')) as { routes: PluginRoute[] }).routes;
  const index = readFileSync(paths.indexHtml);
  const log: GrafanaStandIn['log'] = [];
  const annotations: StandInAnnotation[] = [];
  let lastId = 0;
  const serviceAccount = options.serviceAccountToken
    ? { token: options.serviceAccountToken, login: 'sa-isoscope' }
    : undefined;
  const fill = (text: string): string =>
    text
      .replace('{{ .JsonData.url }}', options.serviceUrl)
      .replace('{{ .SecureJsonData.token }}', options.token);

  async function proxy(req: IncomingMessage, res: ServerResponse, proxyPath: string): Promise<void> {
    const method = req.method ?? 'GET';
    const path = proxyPath.split('?')[0]!;
    const reply = (status: number, body: unknown): void => {
      log.push({ method, path, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const route = routes.find(
      (r) =>
        (!r.method || r.method === '*' || r.method === method) &&
        (path === r.path || path.startsWith(`${r.path}/`)),
    );
    if (!route) return reply(404, { message: `no plugin route for ${method} ${path}` });
    const role = (req.headers['x-grafana-org-role'] as keyof typeof RANK | undefined) ?? 'Viewer';
    if (route.reqRole && (RANK[role] ?? 0) < RANK[route.reqRole])
      return reply(403, { message: 'plugin proxy route access denied' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const upstream = await fetch(fill(route.url) + proxyPath.slice(route.path.length), {
        method,
        headers: {
          ...Object.fromEntries((route.headers ?? []).map((h) => [h.name, fill(h.content)])),
          ...(chunks.length ? { 'content-type': 'application/json' } : {}),
        },
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      log.push({ method, path, status: upstream.status });
      res
        .writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        })
        .end(Buffer.from(await upstream.arrayBuffer()));
    } catch (e) {
      reply(502, {
        message: `the data source proxy could not reach ${options.serviceUrl}: ${(e as Error).message}`,
      });
    }
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const prefix = '/api/datasources/proxy/uid/isoscope/';
    if (url.startsWith(prefix)) {
      void proxy(req, res, url.slice(prefix.length));
    } else if (
      url === '/api/annotations' ||
      url.startsWith('/api/annotations?') ||
      url.startsWith('/api/annotations/')
    ) {
      void annotationsApi(req, res, annotations, serviceAccount, () => ++lastId);
    } else if (url.startsWith('/api/plugins/')) {
      // App settings: accepted and forgotten (the preview's settings are fixed).
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else if (url.startsWith('/preview-assets/')) {
      const file = normalize(join(paths.assets, url.slice('/preview-assets/'.length).split('?')[0]!));
      if (!file.startsWith(paths.assets) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(index);
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    annotations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
