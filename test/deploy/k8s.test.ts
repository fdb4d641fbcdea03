import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { documentedSettings, listFiles, readYaml, readYamlDocuments, repoRoot } from '../support/repo';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** The kinds we ship, each checked against the Kubernetes OpenAPI schema by kubernetes-models. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

const files = listFiles('k8s', (f) => f.endsWith('.yaml') && !f.includes('kustomization'));
const manifests = files.flatMap((file) =>
  readYamlDocuments(file).map((doc) => ({ file, doc: doc as Manifest })),
);
/** The base's manifest of a kind (and name, when the base has several). */
const byKind = (kind: string, name?: string): Manifest => {
  const found = manifests.find(
    (m) =>
      !m.file.includes('overlays') &&
      m.doc.kind === kind &&
      (name === undefined || m.doc.metadata.name === name),
  );
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in k8s/ (overlays aside)`);
  return found.doc;
};

/**
 * A kubectl whose kustomize reads today's kustomization fields (`labels`, inline patches): 1.21 or
 * later. Debian's kubernetes-client is 1.20, so CI machines may have none; the manifests are then
 * still validated file by file above, and only the kustomize build is skipped (named as such).
 */
function modernKubectl(): boolean {
  try {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    const { clientVersion } = JSON.parse(out) as { clientVersion: { major: string; minor: string } };
    return Number(clientVersion.major) > 1 || parseInt(clientVersion.minor, 10) >= 21;
  } catch {
    return false;
  }
}

/** `kubectl kustomize DIR`: what `kubectl apply -k DIR` would apply, built offline. */
function kustomize(dir: string): Manifest[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { cwd: repoRoot, encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJSON() as Manifest);
}

// The parts of the Deployment these tests read, typed once.
interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  ports: { name: string; containerPort: number }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
  securityContext: Record<string, unknown>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
type DeploymentManifest = Manifest & {
  spec: {
    template: {
      spec: {
        securityContext: Record<string, unknown>;
        containers: Array<Container & { args: string[] }>;
        volumes: Array<{ name: string; emptyDir?: unknown; persistentVolumeClaim?: unknown }>;
      };
    };
  };
};
const api = byKind('Deployment', 'isoscope-api') as DeploymentManifest;
const worker = byKind('Deployment', 'isoscope-worker') as DeploymentManifest;
const deployments = [api, worker];
const container = api.spec.template.spec.containers[0]!;
const configMap = byKind('ConfigMap') as Manifest & { data: Record<string, string> };

describe('Kubernetes manifests (k8s/)', () => {
  it.each(manifests.map((m) => [`${m.file} ${m.doc.kind}/${m.doc.metadata.name}`, m.doc] as const))(
    '%s is valid against the Kubernetes schema',
    (_name, doc) => {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model!(doc as never).validate()).not.toThrow();
    },
  );

  it('are all listed in the base kustomization, which k8s/ applies; the secret template excepted', () => {
    expect(readYaml<{ resources: string[] }>('k8s/kustomization.yaml').resources).toEqual(['base']);
    const kustomization = readYaml<{ resources: string[] }>('k8s/base/kustomization.yaml');
    const listed = new Set(kustomization.resources.map((r) => `k8s/base/${r}`));
    for (const file of files.filter((f) => !f.includes('overlays'))) {
      if (file.endsWith('secret.template.yaml')) expect(listed.has(file)).toBe(false);
      else expect(listed).toContain(file);
    }
  });

  it('probe both roles where they answer: /healthz for liveness, /readyz for readiness', () => {
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0]!;
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    }
    const http = container.ports.find((p) => p.name === 'http');
    expect(String(http?.containerPort)).toBe(configMap.data.ISOSCOPE_PORT);
    const service = byKind('Service') as Manifest & { spec: { ports: { targetPort: string }[] } };
    expect(service.spec.ports[0]?.targetPort).toBe('http');
  });

  it('run both roles locked down: non-root, read-only root filesystem, no privilege escalation', () => {
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0]!;
      expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it('split the roles: a stateless api behind the Service, workers with no Service and no volume', () => {
    expect(api.spec.template.spec.containers[0]!.args).toEqual(['serve', '--role', 'api']);
    expect(worker.spec.template.spec.containers[0]!.args).toEqual(['serve', '--role', 'worker']);
    for (const d of deployments) {
      expect(d.spec.template.spec.volumes.every((v) => v.persistentVolumeClaim === undefined)).toBe(true);
      expect(d.spec.template.spec.containers[0]!.envFrom.map((e) => e.secretRef?.name)).toContain(
        'isoscope-secrets',
      );
    }
    expect(
      manifests.some((m) => m.file.startsWith('k8s/base/') && m.doc.kind === 'PersistentVolumeClaim'),
    ).toBe(false);
    const service = byKind('Service') as Manifest & { spec: { selector: Record<string, string> } };
    expect(service.spec.selector).toEqual({
      'app.kubernetes.io/name': 'isoscope',
      'app.kubernetes.io/component': 'api',
    });
    // The workers and the api share one PostgreSQL, named in the secret.
    const secret = byKind('Secret') as Manifest & { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData)).toContain('ISOSCOPE_REGISTRY_URL');
  });

  it('scale the api from 3 to 10 replicas on CPU and memory and the workers on CPU, keeping 2 api replicas through disruptions', () => {
    type Hpa = Manifest & {
      spec: {
        scaleTargetRef: { name: string };
        minReplicas: number;
        maxReplicas: number;
        metrics: { resource: { name: string } }[];
      };
    };
    const apiHpa = byKind('HorizontalPodAutoscaler', 'isoscope-api') as Hpa;
    expect(apiHpa.spec.scaleTargetRef.name).toBe('isoscope-api');
    expect([apiHpa.spec.minReplicas, apiHpa.spec.maxReplicas]).toEqual([3, 10]);
    expect(apiHpa.spec.metrics.map((m) => m.resource.name).sort()).toEqual(['cpu', 'memory']);
    const workerHpa = byKind('HorizontalPodAutoscaler', 'isoscope-worker') as Hpa;
    expect(workerHpa.spec.scaleTargetRef.name).toBe('isoscope-worker');
    expect(workerHpa.spec.metrics.map((m) => m.resource.name)).toEqual(['cpu']);
    const pdb = byKind('PodDisruptionBudget', 'isoscope-api') as Manifest & {
      spec: { minAvailable: number };
    };
    expect(pdb.spec.minAvailable).toBeLessThan(apiHpa.spec.minReplicas);
  });

  it('let traffic in only from Grafana and out only to InfluxDB, Alertmanager, PostgreSQL and DNS', () => {
    const policy = byKind('NetworkPolicy') as Manifest & {
      spec: {
        policyTypes: string[];
        ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
        egress: { ports: { port: number }[] }[];
      };
    };
    expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const sources = policy.spec.ingress.flatMap((rule) => rule.from.map((f) => f.podSelector.matchLabels));
    expect(sources).toEqual([{ 'app.kubernetes.io/name': 'grafana' }]);
    const egressPorts = policy.spec.egress
      .flatMap((rule) => rule.ports.map((p) => p.port))
      .sort((a, b) => a - b);
    expect(egressPorts).toEqual([53, 53, 5432, 8086, 9093]);
  });

  it('configure the service only with documented settings, and keep secrets out of the repository', () => {
    const documented = documentedSettings();
    for (const name of Object.keys(configMap.data)) expect(documented).toContain(name);
    const secret = byKind('Secret') as Manifest & { stringData: Record<string, string> };
    for (const [name, value] of Object.entries(secret.stringData)) {
      expect(documented).toContain(name);
      expect(['', 'REPLACE_ME']).toContain(value);
    }
    const refs = container.envFrom.map((e) => e.configMapRef?.name ?? e.secretRef?.name);
    expect(refs.sort()).toEqual([configMap.metadata.name, secret.metadata.name].sort());
  });

  const withKubectl = modernKubectl() ? it : it.skip;
  withKubectl(
    'build with kustomize (kubectl 1.21 or later, skipped without): the base and both overlays',
    () => {
      const base = kustomize('k8s');
      expect(
        base
          .filter((m) => m.kind === 'Deployment')
          .map((m) => m.metadata.name)
          .sort(),
      ).toEqual(['isoscope-api', 'isoscope-worker']);
      // One process on SQLite: no worker, role all, one replica replaced on update, a volume.
      const single = kustomize('k8s/overlays/sqlite-single');
      const deploys = single.filter((m) => m.kind === 'Deployment') as DeploymentManifest[];
      expect(deploys.map((d) => d.metadata.name)).toEqual(['isoscope-api']);
      const only = deploys[0]! as DeploymentManifest & {
        spec: { replicas: number; strategy: { type: string } };
      };
      expect(only.spec.template.spec.containers[0]!.args).toEqual(['serve', '--role', 'all']);
      expect([only.spec.replicas, only.spec.strategy.type]).toEqual([1, 'Recreate']);
      expect(only.spec.template.spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim).toEqual({
        claimName: 'isoscope-registry',
      });
      expect(single.filter((m) => m.metadata.name === 'isoscope-worker')).toEqual([]);
      expect(single.some((m) => m.kind === 'PersistentVolumeClaim')).toBe(true);
      // A self-contained cluster: the base plus a PostgreSQL StatefulSet the NetworkPolicy lets the pods reach.
      const withPg = kustomize('k8s/overlays/postgres-statefulset');
      const sts = withPg.find((m) => m.kind === 'StatefulSet') as Manifest & {
        spec: { template: { metadata: { labels: Record<string, string> } } };
      };
      expect(sts.metadata.name).toBe('postgresql');
      expect(sts.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('postgresql');
      expect(withPg.filter((m) => m.kind === 'Deployment')).toHaveLength(2);
    },
  );
});
