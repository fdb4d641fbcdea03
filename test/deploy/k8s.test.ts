import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { documentedSettings, listFiles, readYaml, readYamlDocuments } from '../support/repo';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** The kinds we ship, each checked against the Kubernetes OpenAPI schema by kubernetes-models. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
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
const byKind = (kind: string): Manifest => {
  const found = manifests.find((m) => m.doc.kind === kind);
  if (!found) throw new Error(`no ${kind} in k8s/`);
  return found.doc;
};

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
const deployment = byKind('Deployment') as Manifest & {
  spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Container[] } } };
};
const container = deployment.spec.template.spec.containers[0]!;
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

  it('are all listed in the kustomization, the secret template excepted', () => {
    const kustomization = readYaml<{ resources: string[] }>('k8s/kustomization.yaml');
    const listed = new Set(kustomization.resources.map((r) => `k8s/${r}`));
    for (const file of files.filter((f) => !f.includes('overlays'))) {
      if (file.endsWith('secret.template.yaml')) expect(listed.has(file)).toBe(false);
      else expect(listed).toContain(file);
    }
  });

  it('probe the service where it answers: /healthz for liveness, /readyz for readiness', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const http = container.ports.find((p) => p.name === 'http');
    expect(String(http?.containerPort)).toBe(configMap.data.ISOSCOPE_PORT);
    const service = byKind('Service') as Manifest & { spec: { ports: { targetPort: string }[] } };
    expect(service.spec.ports[0]?.targetPort).toBe('http');
  });

  it('run the service locked down: non-root, read-only root filesystem, no privilege escalation', () => {
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
  });

  it('scale from 3 to 10 replicas on CPU and memory, and keep 2 through disruptions', () => {
    const hpa = byKind('HorizontalPodAutoscaler') as Manifest & {
      spec: { minReplicas: number; maxReplicas: number; metrics: { resource: { name: string } }[] };
    };
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 10]);
    expect(hpa.spec.metrics.map((m) => m.resource.name).sort()).toEqual(['cpu', 'memory']);
    const pdb = byKind('PodDisruptionBudget') as Manifest & { spec: { minAvailable: number } };
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
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

  it('offer a single-writer overlay for the SQLite registry', () => {
    const overlay = readYaml<{ resources: string[]; patches: { target: { kind: string } }[] }>(
      'k8s/overlays/sqlite-single/kustomization.yaml',
    );
    expect(overlay.resources).toEqual(['../..']);
    expect(overlay.patches.map((p) => p.target.kind).sort()).toEqual(
      ['Deployment', 'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'PodDisruptionBudget'].sort(),
    );
  });
});
