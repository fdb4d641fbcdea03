import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../../support/repo.js';

interface Route {
  path: string;
  method?: string;
  reqRole?: 'Viewer' | 'Editor' | 'Admin';
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

const OUT = join(repoRoot, 'test/browser/out/harness');
const RANK = { Viewer: 1, Editor: 2, Admin: 3 } as const;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Bundles the harness page (main.tsx with the plugin's sources); a few seconds. */
export function buildHarness(): void {
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules/webpack/bin/webpack.js'), '-c', join(__dirname, 'webpack.config.cjs')],
    {
      cwd: repoRoot,
      stdio: 'pipe',
    },
  );
}

export interface Harness {
  url: string;
  close(): Promise<void>;
  /** Requests the stand-in proxy forwarded or refused, for the test to check. */
  log: Array<{ method: string; path: string; status: number }>;
}

/**
 * Serves the harness page and stands in for Grafana's server: `/api/datasources/proxy/uid/isoscope/…`
 * goes through the routes of the data source's plugin.json exactly as Grafana's proxy does (first
 * route whose method and path prefix match; `reqRole` checked against the signed-in role; the token
 * added from the secure settings), to the live Isoscope service.
 */
export async function startHarness(options: { serviceUrl: string; token: string }): Promise<Harness> {
  const routes = (
    JSON.parse(readFileSync(join(repoRoot, 'plugin/src/datasource/plugin.json'), 'utf8')) as {
      routes: Route[];
    }
  ).routes;
  const index = readFileSync(join(__dirname, 'index.html'));
  const log: Harness['log'] = [];
  const template = (text: string) =>
    text
      .replace('{{ .JsonData.url }}', options.serviceUrl)
      .replace('{{ .SecureJsonData.token }}', options.token);

  async function proxy(req: IncomingMessage, res: ServerResponse, proxyPath: string) {
    const method = req.method ?? 'GET';
    const clean = proxyPath.split('?')[0]!;
    const route = routes.find(
      (r) =>
        (!r.method || r.method === '*' || r.method === method) &&
        (clean === r.path || clean.startsWith(`${r.path}/`)),
    );
    const role = (req.headers['x-grafana-org-role'] as keyof typeof RANK | undefined) ?? 'Viewer';
    const reply = (status: number, body: unknown) => {
      log.push({ method, path: clean, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!route) {
      return reply(404, { message: `no plugin route for ${method} ${clean}` });
    }
    if (route.reqRole && (RANK[role] ?? 0) < RANK[route.reqRole]) {
      return reply(403, { message: 'plugin proxy route access denied' });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const target = template(route.url) + proxyPath.slice(route.path.length);
    try {
      const upstream = await fetch(target, {
        method,
        headers: {
          ...Object.fromEntries((route.headers ?? []).map((h) => [h.name, template(h.content)])),
          ...(chunks.length ? { 'content-type': 'application/json' } : {}),
        },
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      log.push({ method, path: clean, status: upstream.status });
      res
        .writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        })
        .end(body);
    } catch (e) {
      reply(502, {
        message: `the data source proxy could not reach ${options.serviceUrl}: ${(e as Error).message}`,
      });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const prefix = '/api/datasources/proxy/uid/isoscope/';
    if (url.startsWith(prefix)) {
      void proxy(req, res, url.slice(prefix.length));
      return;
    }
    if (url.startsWith('/api/plugins/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (url.startsWith('/harness-assets/')) {
      const file = normalize(join(OUT, url.slice('/harness-assets/'.length).split('?')[0]!));
      if (!file.startsWith(OUT) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
