/**
 * The registry's contract: the same tests against SQLite and against a real PostgreSQL (Debian's,
 * started on a loopback port for this file). A backend passes only if it behaves as the other does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startLocalPostgres, type LocalPostgres } from '../../devtools/postgres.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations.js';
import { PostgresRegistry } from './postgres.js';
import { check, JobRow, RegistryCorruptError } from './rows.js';
import { SqliteRegistry } from './sqlite.js';
import { RegistryError, type DetectorStateRecord, type IncidentRecord, type Registry } from './types.js';

let server: LocalPostgres | undefined;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startLocalPostgres();
});
afterAll(async () => {
  await server?.stop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A place for one registry: open it (again), and reach its tables behind the stores' back. */
interface Place {
  open(): Promise<Registry>;
  /** Raw SQL on the registry's database, for damaging rows and faking a newer schema. */
  exec(sql: string): Promise<void>;
  schemaVersion(r: Registry): Promise<number>;
  migrations: number;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  place(): Promise<Place>;
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async place() {
      dirs.push(mkdtempSync(join(tmpdir(), 'isoscope-registry-')));
      const file = join(dirs.at(-1)!, 'registry.db');
      return {
        open: async () => new SqliteRegistry(file),
        async exec(sql) {
          const db = new Database(file);
          db.exec(sql);
          db.close();
        },
        schemaVersion: async (r) => (r as SqliteRegistry).schemaVersion,
        migrations: SQLITE_MIGRATIONS.length,
      };
    },
  },
  {
    name: 'postgres',
    async place() {
      const url = await server!.createDatabase();
      return {
        open: () => PostgresRegistry.open(url),
        async exec(sql) {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(sql);
          } finally {
            await client.end();
          }
        },
        schemaVersion: (r) => (r as PostgresRegistry).schemaVersion(),
        migrations: POSTGRES_MIGRATIONS.length,
      };
    },
  },
];

const spec = { source: { preset: 'cpu' } };

describe.each(BACKENDS)('registry contract: $name', (backend) => {
  const open: Registry[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  const fresh = async (): Promise<{ r: Registry; place: Place }> => {
    const place = await backend.place();
    const r = await place.open();
    open.push(r);
    return { r, place };
  };
  const reopen = async (place: Place): Promise<Registry> => {
    const r = await place.open();
    open.push(r);
    return r;
  };
  const withVersions = async (r: Registry, n: number, entity = ''): Promise<void> => {
    if (!(await r.detectors.get('cpu'))) await r.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    for (let i = 0; i < n; i++)
      await r.models.add(
        { detectorId: 'cpu', entity, bundle: '{}', metrics: { f1: 0.5 }, params: {} },
        'ci',
        2,
      );
  };

  it('applies its migrations once, keeps data across reopening, and refuses a newer schema', async () => {
    const { r: a, place } = await fresh();
    expect(a.backend).toBe(backend.name);
    expect(await place.schemaVersion(a)).toBe(place.migrations);
    await a.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    await a.close();
    open.splice(open.indexOf(a), 1);
    // Two processes (replicas) starting together on the same registry: both open it, one migrates.
    const [b, c] = await Promise.all([reopen(place), reopen(place)]);
    expect((await b.detectors.list()).map((d) => d.id)).toEqual(['cpu']);
    expect(await c.ping()).toBe(true);
    expect(await place.schemaVersion(c)).toBe(place.migrations);
    await Promise.all(open.splice(0).map((r) => r.close()));

    await place.exec(
      backend.name === 'sqlite'
        ? 'PRAGMA user_version = 99'
        : 'INSERT INTO isoscope_schema (version, applied_at) VALUES (99, 0)',
    );
    await expect(place.open()).rejects.toThrow(
      "the registry's schema is version 99, newer than this Isoscope knows",
    );
  });

  it('creates, updates and deletes detectors; names are unique', async () => {
    const { r } = await fresh();
    const d = await r.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    expect(d).toEqual({ id: 'cpu', name: 'CPU', spec, createdAt: 1, updatedAt: 1 });
    await r.detectors.create({ id: 'mem', name: 'Memory', spec: { n: 2 } }, 2);
    await expect(r.detectors.create({ id: 'cpu2', name: 'CPU', spec }, 2)).rejects.toThrow(
      "a detector named 'CPU' already exists",
    );
    await expect(r.detectors.update('mem', { name: 'CPU' }, 3)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await r.detectors.update('cpu', { name: 'CPU total' }, 3)).toEqual({
      id: 'cpu',
      name: 'CPU total',
      spec,
      createdAt: 1,
      updatedAt: 3,
    });
    expect((await r.detectors.update('cpu', { spec: { x: [1, 2] } }, 4)).spec).toEqual({ x: [1, 2] });
    expect((await r.detectors.list()).map((x) => x.name)).toEqual(['CPU total', 'Memory']);
    await expect(r.detectors.update('nope', {}, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await r.detectors.delete('cpu');
    expect(await r.detectors.get('cpu')).toBeUndefined();
    await expect(r.detectors.delete('cpu')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('deleting a detector deletes its versions, history, jobs, drift reports and state', async () => {
    const { r } = await fresh();
    await withVersions(r, 1);
    await r.jobs.create({ id: 'j1', detectorId: 'cpu', kind: 'training' }, 2);
    await r.drift.add('cpu', 1, '', 3, '{"drifted":false}');
    await r.streamState.set('cpu', '', '{"lastScoredTo":5}', 3);
    await r.detectorState.put({
      detectorId: 'cpu',
      entity: 'web1',
      stage: 'production',
      snapshot: {},
      updatedAt: 3,
    });
    await r.detectors.create({ id: 'cpu', name: 'CPU again', spec }, 4).catch(() => undefined);
    await r.detectors.delete('cpu');
    await r.detectors.create({ id: 'cpu', name: 'CPU', spec }, 5);
    expect(await r.models.list('cpu')).toEqual([]);
    expect(await r.models.history('cpu')).toEqual([]);
    expect(await r.jobs.list('cpu')).toEqual([]);
    expect(await r.drift.latest('cpu')).toEqual([]);
    expect(await r.streamState.get('cpu', '')).toBeUndefined();
    expect(await r.detectorState.list('cpu')).toEqual([]);
  });

  it('keeps one production version: promoting archives the previous one in the same transaction; rollback restores it', async () => {
    const { r } = await fresh();
    await withVersions(r, 2);
    expect(
      await r.models.add(
        { detectorId: 'cpu', entity: 'web1', bundle: '{"b":3}', metrics: [1], params: { t: 3 } },
        'ci',
        7,
      ),
    ).toEqual({
      detectorId: 'cpu',
      version: 3,
      entity: 'web1',
      entityVersion: 1,
      stage: 'candidate',
      trainedAt: 7,
      metrics: [1],
      params: { t: 3 },
      bundle: '{"b":3}',
    });
    const v1 = await r.models.get('cpu', 1);
    expect(v1).toEqual({
      detectorId: 'cpu',
      version: 1,
      entity: '',
      entityVersion: 1,
      stage: 'candidate',
      trainedAt: 2,
      metrics: { f1: 0.5 },
      params: {},
      bundle: '{}',
    });
    await r.models.setStage('cpu', 1, 'production', 'alice', 'first model', 3);
    await r.models.setStage('cpu', 2, 'staging', 'alice', 'shadow scoring', 4);
    const promoted = await r.models.setStage('cpu', 2, 'production', 'alice', 'better recall', 5);
    expect(promoted).toMatchObject({ version: 2, stage: 'production' });
    const listed = await r.models.list('cpu');
    expect(listed.map((v) => [v.version, v.stage])).toEqual([
      [3, 'candidate'],
      [2, 'production'],
      [1, 'archived'],
    ]);
    expect(listed.every((v) => v.bundle === undefined)).toBe(true);
    const back = await r.models.rollback('cpu', 'bob', 'false alarms', 6);
    expect(back).toMatchObject({ version: 1, stage: 'production' });
    expect((await r.models.list('cpu')).map((v) => [v.version, v.stage])).toEqual([
      [3, 'candidate'],
      [2, 'archived'],
      [1, 'production'],
    ]);
    const history = (await r.models.history('cpu')).filter((h) => h.version !== 3);
    expect(history.map((h) => `${h.version}:${h.from}→${h.to} ${h.actor}`)).toEqual([
      '1:null→candidate ci',
      '2:null→candidate ci',
      '1:candidate→production alice',
      '2:candidate→staging alice',
      '1:production→archived alice',
      '2:staging→production alice',
      '2:production→archived bob',
      '1:archived→production bob',
    ]);
    expect(history.at(-1)).toEqual({
      detectorId: 'cpu',
      version: 1,
      from: 'archived',
      to: 'production',
      actor: 'bob',
      reason: 'rollback: false alarms',
      at: 6,
    });
    expect(history[4]!.reason).toBe('replaced by version 2');
  });

  it('keeps one production version per entity, and rolls back per entity', async () => {
    const { r } = await fresh();
    await withVersions(r, 2, 'web1');
    await withVersions(r, 2, 'web2');
    for (const v of [1, 2, 3, 4]) await r.models.setStage('cpu', v, 'production', 'a', 'go', 3 + v);
    expect((await r.models.list('cpu')).map((v) => `${v.version}:${v.entity}:${v.stage}`)).toEqual([
      '4:web2:production',
      '3:web2:archived',
      '2:web1:production',
      '1:web1:archived',
    ]);
    await expect(r.models.rollback('cpu', 'a', 'no', 9)).rejects.toThrow(
      'has no production version to roll back',
    );
    expect((await r.models.rollback('cpu', 'a', 'noisy', 9, 'web1')).version).toBe(1);
    expect((await r.models.get('cpu', 4))!.stage).toBe('production');
  });

  it('changes nothing when a stage change fails', async () => {
    const { r } = await fresh();
    await withVersions(r, 1);
    await r.models.setStage('cpu', 1, 'production', 'alice', 'go', 3);
    const before = await r.models.history('cpu');
    await expect(r.models.setStage('cpu', 9, 'production', 'alice', 'typo', 4)).rejects.toBeInstanceOf(
      RegistryError,
    );
    await expect(r.models.setStage('cpu', 1, 'production', 'alice', 'again', 4)).rejects.toThrow(
      'version 1 is already production',
    );
    await expect(r.models.setStage('nope', 1, 'production', 'alice', 'x', 4)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(r.models.rollback('cpu', 'alice', 'nothing earlier', 5)).rejects.toThrow(
      'no earlier production version',
    );
    await expect(
      r.models.add({ detectorId: 'nope', entity: '', bundle: '{}', metrics: {}, params: {} }, 'ci', 6),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await r.models.history('cpu')).toEqual(before);
    expect((await r.models.get('cpu', 1))!.stage).toBe('production');
  });

  it("moves several versions in one transaction (a training job's promotion): all, or none when one move fails", async () => {
    const { r } = await fresh();
    await withVersions(r, 1, 'web1');
    await withVersions(r, 1, 'web2');
    await r.models.setStages(
      'cpu',
      [
        { version: 1, to: 'production', reason: 'first' },
        { version: 2, to: 'production', reason: 'first' },
      ],
      'ci',
      3,
    );
    await withVersions(r, 1, 'web1');
    await withVersions(r, 1, 'web2');
    const before = { versions: await r.models.list('cpu'), history: await r.models.history('cpu') };
    // The second move names a version that does not exist: the first is rolled back with it.
    await expect(
      r.models.setStages(
        'cpu',
        [
          { version: 3, to: 'production', reason: 'retrained' },
          { version: 9, to: 'production', reason: 'retrained' },
        ],
        'ci',
        4,
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect({ versions: await r.models.list('cpu'), history: await r.models.history('cpu') }).toEqual(before);
    const moved = await r.models.setStages(
      'cpu',
      [
        { version: 3, to: 'production', reason: 'retrained' },
        { version: 4, to: 'staging', reason: 'shadow' },
      ],
      'ci',
      5,
    );
    expect(moved.map((v) => `${v.version}:${v.stage}`)).toEqual(['3:production', '4:staging']);
    expect((await r.models.list('cpu')).map((v) => `${v.version}:${v.entity}:${v.stage}`)).toEqual([
      '4:web2:staging',
      '3:web1:production',
      '2:web2:production',
      '1:web1:archived',
    ]);
  });

  it('numbers versions and promotes without clashes when many changes arrive at once', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    // Two registries on the same database: two replicas.
    const other = await reopen(place);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? other : r).models.add(
          { detectorId: 'cpu', entity: '', bundle: '{}', metrics: { i }, params: {} },
          'ci',
          10 + i,
        ),
      ),
    );
    const versions = (await r.models.list('cpu')).map((v) => v.version);
    expect(versions).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const results = await Promise.allSettled(
      versions.map((v, i) => (i % 2 ? other : r).models.setStage('cpu', v, 'production', 'ci', 'race', 30)),
    );
    expect(results.filter((x) => x.status === 'rejected')).toEqual([]);
    const production = (await r.models.list('cpu')).filter((v) => v.stage === 'production');
    expect(production).toHaveLength(1);
    // Every promotion but the first archived the one before it, so the history is one chain.
    const history = (await r.models.history('cpu')).filter(
      (h) => h.to === 'production' || h.from === 'production',
    );
    expect(history.filter((h) => h.to === 'production')).toHaveLength(12);
    expect(history.filter((h) => h.from === 'production')).toHaveLength(11);
  });

  it("numbers each entity's versions v1, v2, … beside the detector-wide version id", async () => {
    const { r } = await fresh();
    await withVersions(r, 0);
    for (const [i, entity] of ['web-1', 'web-2', 'web-1', '', 'web-1'].entries())
      await r.models.add({ detectorId: 'cpu', entity, bundle: '{}', metrics: {}, params: {} }, 'ci', i);
    const listed = (await r.models.list('cpu')).map((v) => [v.version, v.entity, v.entityVersion]);
    expect(listed).toEqual([
      [5, 'web-1', 3],
      [4, '', 1],
      [3, 'web-1', 2],
      [2, 'web-2', 1],
      [1, 'web-1', 1],
    ]);
    expect(await r.models.get('cpu', 3)).toMatchObject({ entity: 'web-1', entityVersion: 2, bundle: '{}' });
    // Another detector numbers its own.
    await r.detectors.create({ id: 'mem', name: 'mem', spec }, 0);
    const first = await r.models.add(
      { detectorId: 'mem', entity: 'web-1', bundle: '{}', metrics: {}, params: {} },
      'ci',
      9,
    );
    expect([first.version, first.entityVersion]).toEqual([1, 1]);
  });

  it('numbers the versions of a registry made before per-entity numbers, in their order', async () => {
    const place = await backend.place();
    const migrations = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    const n = migrations.findIndex((m) => m.includes('entity_version'));
    expect(n).toBeGreaterThan(0);
    const applied =
      backend.name === 'sqlite'
        ? `PRAGMA user_version = ${n};`
        : `CREATE TABLE isoscope_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
           INSERT INTO isoscope_schema SELECT v, 0 FROM generate_series(1, ${n}) AS v;`;
    const rows = ['web-1', 'web-2', 'web-1', 'web-5', 'web-1']
      .map(
        (entity, i) =>
          `INSERT INTO model_versions (detector_id, version, entity, stage, trained_at, metrics, params, bundle) VALUES ('cpu', ${i + 1}, '${entity}', 'candidate', ${i}, '{}', '{}', '{}');`,
      )
      .join('\n');
    await place.exec(
      `${migrations.slice(0, n).join(';\n')};\n${applied}
       INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES ('cpu', 'cpu', '{}', 0, 0);
       ${rows}`,
    );
    const r = await place.open();
    open.push(r);
    expect(await place.schemaVersion(r)).toBe(place.migrations);
    expect((await r.models.list('cpu')).map((v) => [v.version, v.entity, v.entityVersion])).toEqual([
      [5, 'web-1', 3],
      [4, 'web-5', 1],
      [3, 'web-1', 2],
      [2, 'web-2', 1],
      [1, 'web-1', 1],
    ]);
    const next = await r.models.add(
      { detectorId: 'cpu', entity: 'web-5', bundle: '{}', metrics: {}, params: {} },
      'ci',
      9,
    );
    expect([next.version, next.entityVersion]).toEqual([6, 2]);
  });

  it('keeps bundles apart: stage changes, rollbacks and lists neither read nor rewrite them', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    for (const [i, entity] of ['web-1', 'web-1', 'web-2'].entries())
      await r.models.add(
        { detectorId: 'cpu', entity, bundle: `{"checkpoint":${i + 1}}`, metrics: {}, params: {} },
        'ci',
        2,
      );
    // With the bundles gone from under them, everything but reading a bundle still works: none of
    // these touches a bundle row (before bundles had their own table, each rewrote its version's).
    await place.exec('DELETE FROM model_bundles');
    await r.models.setStage('cpu', 1, 'production', 'a', 'first', 3);
    const moved = await r.models.setStages(
      'cpu',
      [
        { version: 2, to: 'production', reason: 'retrained' },
        { version: 3, to: 'staging', reason: 'shadow' },
      ],
      'ci',
      4,
    );
    expect(moved.map((v) => [v.version, v.stage, v.bundle])).toEqual([
      [2, 'production', undefined],
      [3, 'staging', undefined],
    ]);
    const back = await r.models.rollback('cpu', 'a', 'noisy', 5, 'web-1');
    expect([back.version, back.stage, back.bundle]).toEqual([1, 'production', undefined]);
    expect((await r.models.list('cpu')).map((v) => `${v.version}:${v.stage}`)).toEqual([
      '3:staging',
      '2:archived',
      '1:production',
    ]);
    expect(await r.models.get('cpu', 3, { bundle: false })).toMatchObject({ version: 3, stage: 'staging' });
    // Reading the bundle itself names the damage.
    await expect(r.models.get('cpu', 3)).rejects.toThrow('model_versions row (cpu, 3) is damaged at /bundle');
  });

  it('moves the bundles of a registry made before they had their own table, and deletes them with their detector', async () => {
    const place = await backend.place();
    const migrations = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    const n = migrations.findIndex((m) => m.includes('CREATE TABLE model_bundles'));
    expect(n).toBeGreaterThan(0);
    const applied =
      backend.name === 'sqlite'
        ? `PRAGMA user_version = ${n};`
        : `CREATE TABLE isoscope_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
           INSERT INTO isoscope_schema SELECT v, 0 FROM generate_series(1, ${n}) AS v;`;
    await place.exec(
      `${migrations.slice(0, n).join(';\n')};\n${applied}
       INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES ('cpu', 'cpu', '{}', 0, 0);
       INSERT INTO model_versions (detector_id, version, entity, entity_version, stage, trained_at, metrics, params, bundle)
         VALUES ('cpu', 1, 'web-1', 1, 'production', 0, '{}', '{}', '{"checkpoint":1}'),
                ('cpu', 2, 'web-1', 2, 'candidate', 1, '{}', '{}', '{"checkpoint":2}');`,
    );
    const r = await place.open();
    open.push(r);
    expect(await place.schemaVersion(r)).toBe(place.migrations);
    expect((await r.models.get('cpu', 1))!.bundle).toBe('{"checkpoint":1}');
    expect((await r.models.get('cpu', 2))!.bundle).toBe('{"checkpoint":2}');
    await r.models.setStage('cpu', 2, 'production', 'a', 'go', 5);
    expect((await r.models.get('cpu', 2))!).toMatchObject({
      stage: 'production',
      bundle: '{"checkpoint":2}',
    });
    // The column is gone. The message is compared, not the error's class: better-sqlite3's native
    // part keeps the SqliteError class of the first test file that loaded it in this jest worker,
    // whose Error is another realm's, so toThrow would not see an error at all.
    const refused = await place.exec('SELECT bundle FROM model_versions').then(
      () => 'no error',
      (e: unknown) => String((e as { message?: unknown }).message),
    );
    expect(refused).toMatch(/column.*bundle/);
    await r.detectors.delete('cpu');
    await r.detectors.create({ id: 'cpu', name: 'cpu', spec }, 6);
    // The same version numbers again: the old bundles went with their versions.
    await withVersions(r, 2);
    expect((await r.models.get('cpu', 1))!.bundle).toBe('{}');
  });

  it('runs jobs through their states and fails the ones a stopped process left behind', async () => {
    const { r: a, place } = await fresh();
    await a.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    expect(await a.jobs.create({ id: 'j1', detectorId: 'cpu', kind: 'training' }, 2)).toEqual({
      id: 'j1',
      detectorId: 'cpu',
      kind: 'training',
      state: 'queued',
      phase: 'queued',
      progress: 0,
      createdAt: 2,
    });
    await a.jobs.update('j1', { state: 'running', phase: 'grid search', progress: 0.4, startedAt: 3 });
    await a.jobs.create({ id: 'j2', detectorId: 'cpu', kind: 'backfill' }, 4);
    await a.jobs.update('j2', { state: 'succeeded', progress: 1, finishedAt: 5, result: { version: 1 } });
    await expect(a.jobs.create({ id: 'j2', detectorId: 'cpu', kind: 'backfill' }, 4)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(a.jobs.create({ id: 'j3', detectorId: 'nope', kind: 'training' }, 4)).rejects.toThrow(
      "no detector 'nope'",
    );
    await expect(a.jobs.update('nope', { phase: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(a.jobs.update('nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await a.jobs.list()).map((j) => j.id)).toEqual(['j2', 'j1']);
    expect((await a.jobs.list('cpu')).map((j) => j.id)).toEqual(['j2', 'j1']);
    expect(await a.jobs.list('other')).toEqual([]);
    const b = await reopen(place);
    expect(await b.jobs.failInterrupted(10)).toBe(1);
    expect(await b.jobs.get('j1')).toMatchObject({
      state: 'failed',
      finishedAt: 10,
      progress: 0.4,
      error: expect.stringContaining('interrupted'),
    });
    expect(await b.jobs.get('j2')).toMatchObject({ state: 'succeeded', result: { version: 1 } });
    expect(await b.jobs.get('nope')).toBeUndefined();
  });

  it('fails only the jobs whose heartbeat went silent, when asked to spare the live ones', async () => {
    const { r } = await fresh();
    await r.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    await r.jobs.create({ id: 'alive', detectorId: 'cpu', kind: 'training' }, 10);
    await r.jobs.update('alive', { state: 'running', startedAt: 11 });
    await r.jobs.create({ id: 'dead', detectorId: 'cpu', kind: 'backfill' }, 10);
    await r.jobs.create({ id: 'done', detectorId: 'cpu', kind: 'backfill' }, 10);
    await r.jobs.update('done', { state: 'succeeded', finishedAt: 12 });
    await r.jobs.heartbeat(['alive', 'done'], 100);
    await r.jobs.heartbeat([], 100);
    expect(await r.jobs.failInterrupted(120, 50)).toBe(1);
    expect((await r.jobs.get('dead'))?.state).toBe('failed');
    expect((await r.jobs.get('alive'))?.state).toBe('running');
    expect((await r.jobs.get('done'))?.state).toBe('succeeded');
    expect(await r.jobs.failInterrupted(200, 150)).toBe(1);
    expect((await r.jobs.get('alive'))?.state).toBe('failed');
  });

  it('keeps the newest drift report per entity', async () => {
    const { r } = await fresh();
    await withVersions(r, 1);
    await r.drift.add('cpu', 1, 'web2', 1, '{"n":1}');
    await r.drift.add('cpu', 1, 'web1', 2, '{"n":2}');
    await r.drift.add('cpu', 1, 'web2', 3, '{"n":3}');
    expect(await r.drift.latest('cpu')).toEqual(['{"n":2}', '{"n":3}']);
    await expect(r.drift.add('nope', 1, '', 1, '{}')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps stream state per detector and key, overwriting', async () => {
    const { r } = await fresh();
    await withVersions(r, 0);
    expect(await r.streamState.get('cpu', '')).toBeUndefined();
    await r.streamState.set('cpu', '', '{"lastScoredTo":1}', 1);
    await r.streamState.set('cpu', 'drift', '{"checkedAt":2}', 2);
    await r.streamState.set('cpu', '', '{"lastScoredTo":3}', 3);
    expect(await r.streamState.get('cpu', '')).toBe('{"lastScoredTo":3}');
    expect(await r.streamState.get('cpu', 'drift')).toBe('{"checkedAt":2}');
    await expect(r.streamState.set('nope', '', '{}', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps one runtime state per detector, entity and stage, lists them without snapshots, and drops them with the detector', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    const base = {
      detectorId: 'cpu',
      entity: 'web-1',
      version: 1,
      scoredTo: 60_000,
      snapshot: '{"a":1}',
      updatedAt: 2,
    };
    await r.runtimeState.set({ ...base, stage: 'production' });
    await r.runtimeState.set({ ...base, stage: 'staging', version: 2 });
    const latest = {
      ...base,
      stage: 'production' as const,
      scoredTo: 120_000,
      snapshot: '{"a":2}',
      updatedAt: 3,
    };
    await r.runtimeState.set(latest);
    const b = await reopen(place);
    expect(await b.runtimeState.get('cpu', 'web-1', 'production')).toEqual(latest);
    expect(await b.runtimeState.get('cpu', 'web-2', 'production')).toBeUndefined();
    expect((await b.runtimeState.list('cpu')).map((s) => [s.stage, s.version, s.snapshot])).toEqual([
      ['production', 1, ''],
      ['staging', 2, ''],
    ]);
    await b.runtimeState.delete('cpu', 'web-1', 'staging');
    expect(await b.runtimeState.list('cpu')).toHaveLength(1);
    await expect(b.runtimeState.set({ ...latest, detectorId: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await b.detectors.delete('cpu');
    expect(await b.runtimeState.list('cpu')).toEqual([]);
  });

  it("lists one entity's runtimes when asked", async () => {
    const { r } = await fresh();
    await r.detectors.create({ id: 'cpu', name: 'CPU', spec }, 1);
    const base = { detectorId: 'cpu', version: 1, scoredTo: 0, snapshot: '{}', updatedAt: 2 };
    await r.runtimeState.set({ ...base, entity: 'web-1', stage: 'production' });
    await r.runtimeState.set({ ...base, entity: 'web-2', stage: 'production' });
    await r.runtimeState.set({ ...base, entity: 'web-2', stage: 'staging' });
    expect((await r.runtimeState.list('cpu', 'web-2')).map((s) => `${s.entity}:${s.stage}`)).toEqual([
      'web-2:production',
      'web-2:staging',
    ]);
    expect(await r.runtimeState.list('cpu', 'web-3')).toEqual([]);
  });

  it('keeps detector state per (detector, entity, stage); a shard checkpoint is all or nothing', async () => {
    const { r } = await fresh();
    await withVersions(r, 0);
    const state = (entity: string, stage: DetectorStateRecord['stage'], at: number, cursor?: number) => ({
      detectorId: 'cpu',
      entity,
      stage,
      snapshot: { ewma: [at, 0.5], seen: at * 10 },
      ...(cursor !== undefined ? { cursor } : {}),
      updatedAt: at,
    });
    expect(await r.detectorState.get('cpu', 'web1', 'production')).toBeUndefined();
    await r.detectorState.put(state('web1', 'production', 1, 60_000));
    await r.detectorState.put(state('web1', 'staging', 1));
    await r.detectorState.put(state('web1', 'production', 2, 120_000));
    expect(await r.detectorState.get('cpu', 'web1', 'production')).toEqual(
      state('web1', 'production', 2, 120_000),
    );
    expect(await r.detectorState.get('cpu', 'web1', 'staging')).toEqual(state('web1', 'staging', 1));
    await r.detectorState.putMany([
      state('web2', 'production', 2, 1),
      state('web0', 'production', 3, 2),
      state('web2', 'production', 3, 1),
    ]);
    await r.detectorState.putMany([]);
    expect((await r.detectorState.list('cpu')).map((s) => `${s.entity}/${s.stage}@${s.updatedAt}`)).toEqual([
      'web0/production@3',
      'web1/production@2',
      'web1/staging@1',
      'web2/production@3',
    ]);

    // A shard of three statements' worth whose last record names a detector that does not exist:
    // the rows the first statements wrote are rolled back, and a write another request makes
    // meanwhile is not swept into the failed transaction.
    const failing = [
      ...Array.from({ length: 1200 }, (_, i) => state(`host-${i}`, 'production', 9, 9)),
      state('web1', 'production', 9, 9),
      { ...state('web1', 'production', 9), detectorId: 'nope' },
    ];
    const [failed] = await Promise.allSettled([
      r.detectorState.putMany(failing),
      r.detectors.create({ id: 'mem', name: 'Memory', spec }, 9),
    ]);
    expect(failed).toMatchObject({
      status: 'rejected',
      reason: { code: 'NOT_FOUND', message: "no detector 'nope'" },
    });
    expect(await r.detectorState.get('cpu', 'web1', 'production')).toEqual(
      state('web1', 'production', 2, 120_000),
    );
    expect(await r.detectorState.list('cpu')).toHaveLength(4);
    expect(await r.detectors.get('mem')).toMatchObject({ name: 'Memory' });

    await expect(
      r.detectorState.put({ ...state('web1', 'production', 1), snapshot: undefined }),
    ).rejects.toThrow('cannot be stored as JSON');
    expect(await r.detectorState.delete('cpu')).toBe(4);
    expect(await r.detectorState.list('cpu')).toEqual([]);

    // A shard larger than one statement's worth of rows is still one transaction.
    const shard = Array.from({ length: 1201 }, (_, i) =>
      state(`host-${String(i).padStart(4, '0')}`, 'production', 5, i),
    );
    await r.detectorState.putMany(shard);
    const stored = await r.detectorState.list('cpu');
    expect(stored).toHaveLength(1201);
    expect(stored[1200]).toEqual(shard[1200]);
  });

  it('queues alert events per receiver, oldest first, until removed', async () => {
    const { r } = await fresh();
    const a = await r.outbox.add('alertmanager', ['{"e":1}', '{"e":2}'], 1);
    const w = await r.outbox.add('webhook', ['{"e":3}'], 2);
    const b = await r.outbox.add('alertmanager', ['{"e":4}'], 3);
    expect(new Set([...a, ...w, ...b]).size).toBe(4);
    expect(await r.outbox.list('alertmanager')).toEqual([
      { id: a[0], event: '{"e":1}' },
      { id: a[1], event: '{"e":2}' },
      { id: b[0], event: '{"e":4}' },
    ]);
    await r.outbox.remove([a[0]!, b[0]!]);
    await r.outbox.remove([]);
    expect((await r.outbox.list('alertmanager')).map((e) => e.event)).toEqual(['{"e":2}']);
    expect((await r.outbox.list('webhook')).map((e) => e.id)).toEqual(w);
  });

  it("lets one owner at a time hold a receiver's delivery lease, until it expires or is released", async () => {
    const { r } = await fresh();
    expect(await r.outbox.lease('webhook', 'a', 100, 0)).toBe(true);
    expect(await r.outbox.lease('webhook', 'b', 150, 50)).toBe(false);
    expect(await r.outbox.lease('alertmanager', 'b', 150, 50)).toBe(true);
    expect(await r.outbox.lease('webhook', 'a', 200, 90)).toBe(true); // renewed by its holder
    expect(await r.outbox.lease('webhook', 'b', 250, 150)).toBe(false);
    expect(await r.outbox.lease('webhook', 'b', 301, 201)).toBe(true); // expired: taken over
    await r.outbox.release('webhook', 'a'); // not a's any more: nothing happens
    expect(await r.outbox.lease('webhook', 'a', 310, 210)).toBe(false);
    await r.outbox.release('webhook', 'b');
    expect(await r.outbox.lease('webhook', 'a', 320, 220)).toBe(true);
  });

  it('stores token hashes, finds active ones, and revokes', async () => {
    const { r } = await fresh();
    expect(await r.tokens.create({ id: 't1', name: 'grafana', role: 'viewer', hash: 'h1' }, 1)).toEqual({
      id: 't1',
      name: 'grafana',
      role: 'viewer',
      createdAt: 1,
    });
    await r.tokens.create({ id: 't2', name: 'ci', role: 'admin', hash: 'h2' }, 2);
    await expect(
      r.tokens.create({ id: 't3', name: 'dup', role: 'admin', hash: 'h2' }, 3),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await r.tokens.find('h1')).toMatchObject({ id: 't1', role: 'viewer' });
    await r.tokens.revoke('t1', 2);
    expect(await r.tokens.find('h1')).toBeUndefined();
    await expect(r.tokens.revoke('t1', 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await r.tokens.list()).map((t) => [t.id, t.revokedAt])).toEqual([
      ['t1', 2],
      ['t2', undefined],
    ]);
  });

  it('keeps incidents with their feedback, one firing per entity, filtered and dropped with the detector', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    const base: IncidentRecord = {
      id: 'i1',
      detectorId: 'cpu',
      entity: 'web-1',
      state: 'firing',
      startAt: 1000,
      endAt: 5000,
      peakAt: 3000,
      peakScore: 0.75,
      severity: 'high',
      flagged: 4,
      spanRows: 5,
      topMetrics: { usage_user: 3, usage_system: 1 },
      quietRows: 2,
      recent: [0.6, 0.7],
      suppressed: false,
      createdAt: 10,
      updatedAt: 10,
    };
    await r.incidents.put(base);
    expect(await r.incidents.get('i1')).toEqual(base);
    expect(await r.incidents.firing('cpu', 'web-1')).toEqual(base);
    expect(await r.incidents.firing('cpu', 'web-2')).toBeUndefined();
    // A second firing incident of the same entity would make "what is firing now" ambiguous.
    await expect(r.incidents.put({ ...base, id: 'i2' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(r.incidents.put({ ...base, id: 'x', detectorId: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // Replacing by id keeps the creation time and changes the rest.
    const resolved = {
      ...base,
      state: 'resolved' as const,
      endAt: 9000,
      quietRows: 10,
      createdAt: 99,
      updatedAt: 20,
    };
    await r.incidents.put(resolved);
    expect(await r.incidents.get('i1')).toEqual({ ...resolved, createdAt: 10 });
    expect(await r.incidents.firing('cpu', 'web-1')).toBeUndefined();
    await r.incidents.put({
      ...base,
      id: 'i2',
      entity: 'web-2',
      startAt: 20_000,
      endAt: 30_000,
      severity: 'low',
      suppressed: true,
    });
    const ids = async (q: Parameters<typeof r.incidents.list>[0]) =>
      (await r.incidents.list(q)).map((i) => i.id);
    expect(await ids({})).toEqual(['i2', 'i1']);
    expect(await ids({ state: 'firing' })).toEqual(['i2']);
    expect(await ids({ entity: 'web-1' })).toEqual(['i1']);
    expect(await ids({ severities: ['high', 'critical'] })).toEqual(['i1']);
    expect(await ids({ severities: [] })).toEqual([]);
    expect(await ids({ from: 9000, to: 20_000 })).toEqual(['i1']);
    expect(await ids({ from: 9001, to: 20_001 })).toEqual(['i2']);
    expect(await ids({ detectorId: 'mem' })).toEqual([]);
    expect(await ids({ limit: 1 })).toEqual(['i2']);
    expect((await r.incidents.get('i2'))?.suppressed).toBe(true);

    await r.incidents.addFeedback({
      incidentId: 'i1',
      verdict: 'expected',
      note: 'deploy',
      actor: 'ann',
      at: 30,
    });
    await r.incidents.addFeedback({ incidentId: 'i1', verdict: 'real', note: '', actor: 'bob', at: 31 });
    await r.incidents.addFeedback({
      incidentId: 'i2',
      verdict: 'not_anomaly',
      note: 'n',
      actor: 'c',
      at: 32,
    });
    await expect(
      r.incidents.addFeedback({ incidentId: 'nope', verdict: 'real', note: '', actor: 'a', at: 1 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await r.incidents.feedback(['i1'])).map((f) => [f.verdict, f.actor, f.note])).toEqual([
      ['expected', 'ann', 'deploy'],
      ['real', 'bob', ''],
    ]);
    expect((await r.incidents.feedback(['i2', 'i1'])).map((f) => f.at)).toEqual([30, 31, 32]);
    expect(await r.incidents.feedback([])).toEqual([]);

    await place.exec("UPDATE incidents SET top_metrics = '{\"a\": -1}' WHERE id = 'i2'");
    await expect(r.incidents.get('i2')).rejects.toThrow("incidents row 'i2' column top_metrics is damaged");
    await r.detectors.delete('cpu');
    expect(await r.incidents.list()).toEqual([]);
    expect(await r.incidents.feedback(['i1', 'i2'])).toEqual([]);
  });

  it('keeps the rules that suppressed an incident, and reads incidents recorded before they were kept', async () => {
    const place = await backend.place();
    const migrations = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    const n = migrations.findIndex((m) => m.includes('suppressed_by'));
    expect(n).toBeGreaterThan(0);
    const applied =
      backend.name === 'sqlite'
        ? `PRAGMA user_version = ${n};`
        : `CREATE TABLE isoscope_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
           INSERT INTO isoscope_schema SELECT v, 0 FROM generate_series(1, ${n}) AS v;`;
    // An incident suppressed before the rule was recorded with it.
    await place.exec(
      `${migrations.slice(0, n).join(';\n')};\n${applied}
       INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES ('cpu', 'cpu', '{}', 0, 0);
       INSERT INTO incidents (id, detector_id, entity, state, start_at, end_at, peak_at, peak_score, severity,
         flagged, span_rows, top_metrics, quiet_rows, recent, suppressed, created_at, updated_at)
       VALUES ('old', 'cpu', 'web-1', 'resolved', 1000, 5000, 3000, 0.7, 'low', 2, 5, '{}', 10, '[]', 1, 10, 10);`,
    );
    const r = await place.open();
    open.push(r);
    expect(await place.schemaVersion(r)).toBe(place.migrations);
    const old = await r.incidents.get('old');
    expect(old?.suppressed).toBe(true);
    expect(old).not.toHaveProperty('suppressedBy');

    const quiet: IncidentRecord = {
      ...old!,
      id: 'new',
      entity: 'web-2',
      suppressedBy: { ruleId: 'rule-1', reason: 'nightly backup, ticket OPS-12' },
    };
    await r.incidents.put(quiet);
    // Put without the list of every rule (as before it was kept): read as that one rule.
    expect(await r.incidents.get('new')).toEqual({ ...quiet, suppressedByAll: [quiet.suppressedBy] });
    expect((await r.incidents.list({ entity: 'web-2' }))[0]?.suppressedBy).toEqual(quiet.suppressedBy);
    // Two rules that covered it between them, both kept, the first also as suppressedBy.
    const both: IncidentRecord = {
      ...quiet,
      suppressedByAll: [quiet.suppressedBy!, { ruleId: 'rule-2', reason: 'weekend batch' }],
    };
    await r.incidents.put(both);
    expect(await r.incidents.get('new')).toEqual(both);
    expect((await r.incidents.list({ entity: 'web-2' }))[0]?.suppressedByAll).toEqual(both.suppressedByAll);
    // The rule's reason stays with the incident after the rule itself is gone.
    await r.suppressions.add({
      id: 'rule-1',
      kind: 'daily',
      start: 0,
      end: 60,
      reason: 'nightly backup, ticket OPS-12',
      actor: 'ann',
      createdAt: 1,
    });
    await r.suppressions.delete('rule-1');
    expect((await r.incidents.get('new'))?.suppressedBy?.reason).toBe('nightly backup, ticket OPS-12');
    // A flag outside every rule makes it page after all: stored without a rule again.
    const { suppressedBy: _, suppressedByAll: __, ...paged } = { ...both, suppressed: false };
    await r.incidents.put(paged);
    expect(await r.incidents.get('new')).toEqual(paged);
  });

  it("records a Grafana annotation's verdicts once per version of it, all or none", async () => {
    const { r } = await fresh();
    await withVersions(r, 0);
    const incident = (id: string, entity: string): IncidentRecord => ({
      id,
      detectorId: 'cpu',
      entity,
      state: 'resolved',
      startAt: 1000,
      endAt: 5000,
      peakAt: 3000,
      peakScore: 0.7,
      severity: 'high',
      flagged: 3,
      spanRows: 5,
      topMetrics: {},
      quietRows: 10,
      recent: [],
      suppressed: false,
      createdAt: 1,
      updatedAt: 1,
    });
    await r.incidents.put(incident('i1', 'web-1'));
    await r.incidents.put(incident('i2', 'web-2'));
    const verdict = (incidentId: string, v: 'real' | 'not_anomaly', at: number) => ({
      incidentId,
      verdict: v,
      note: 'from grafana',
      actor: 'grafana:ann',
      at,
    });
    const source = {
      annotationId: '17',
      updated: 100,
      verdict: 'real' as const,
      appliedAt: 50,
      time: 1000,
      timeEnd: 2000,
    };
    expect(
      await r.incidents.addAnnotationFeedback(source, [verdict('i1', 'real', 50), verdict('i2', 'real', 50)]),
    ).toBe(true);
    // The same version again (a second poll, another replica): nothing recorded.
    expect(await r.incidents.addAnnotationFeedback(source, [verdict('i1', 'real', 51)])).toBe(false);
    // An older version (a replica that read Grafana before the edit): nothing either.
    expect(
      await r.incidents.addAnnotationFeedback({ ...source, updated: 99 }, [verdict('i1', 'real', 52)]),
    ).toBe(false);
    expect(
      (await r.incidents.feedback(['i1', 'i2'])).map((f) => [f.incidentId, f.at, f.annotationId]),
    ).toEqual([
      ['i1', 50, '17'],
      ['i2', 50, '17'],
    ]);
    // An edit of the annotation is a new version: its verdicts replace the ones it gave before,
    // here on i1 only (the edit narrowed it).
    const edited = { ...source, updated: 200, verdict: 'not_anomaly' as const, appliedAt: 60 };
    expect(await r.incidents.addAnnotationFeedback(edited, [verdict('i1', 'not_anomaly', 60)])).toBe(true);
    expect((await r.incidents.feedback(['i1'])).map((f) => f.verdict)).toEqual(['not_anomaly']);
    expect(await r.incidents.feedback(['i2'])).toEqual([]);
    // A vanished incident records nothing, not even the claim: the next poll tries again.
    await expect(
      r.incidents.addAnnotationFeedback({ ...source, annotationId: '18' }, [
        verdict('i2', 'real', 70),
        verdict('gone', 'real', 70),
      ]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await r.incidents.feedback(['i2'])).toEqual([]);
    expect(await r.incidents.appliedAnnotations(['17', '18', '19'])).toEqual(
      new Map([['17', { annotationId: '17', updated: 200, time: 1000, timeEnd: 2000, withdrawn: false }]]),
    );
    expect(await r.incidents.appliedAnnotations([])).toEqual(new Map());
  });

  it("withdraws an annotation's verdicts and only those, lists the standing ones by span, and applies one seen again", async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    await r.incidents.put({
      id: 'i1',
      detectorId: 'cpu',
      entity: 'web-1',
      state: 'resolved',
      startAt: 1000,
      endAt: 5000,
      peakAt: 3000,
      peakScore: 0.7,
      severity: 'high',
      flagged: 3,
      spanRows: 5,
      topMetrics: {},
      quietRows: 10,
      recent: [],
      suppressed: false,
      createdAt: 1,
      updatedAt: 1,
    });
    const given = (verdict: 'real' | 'expected' | 'not_anomaly', actor: string, at: number) => ({
      incidentId: 'i1',
      verdict,
      note: '',
      actor,
      at,
    });
    // A UI verdict, then annotation 17's, then another UI verdict, then annotation 18's.
    await r.incidents.addFeedback(given('expected', 'ann', 10));
    const a17 = {
      annotationId: '17',
      updated: 100,
      verdict: 'real' as const,
      appliedAt: 20,
      time: 1000,
      timeEnd: 1000,
    };
    await r.incidents.addAnnotationFeedback(a17, [given('real', 'grafana:bob', 20)]);
    await r.incidents.addFeedback(given('not_anomaly', 'cid', 30));
    const a18 = { ...a17, annotationId: '18', appliedAt: 40, time: 9000, timeEnd: 9500 };
    await r.incidents.addAnnotationFeedback(a18, [given('real', 'grafana:bob', 40)]);
    expect((await r.incidents.standingAnnotations(0, 5000)).map((a) => a.annotationId)).toEqual(['17']);
    expect((await r.incidents.standingAnnotations(9400, 20_000)).map((a) => a.annotationId)).toEqual(['18']);

    // 18 deleted in Grafana: its verdict goes, the UI's stand, the current verdict is the UI's last.
    expect(await r.incidents.withdrawAnnotation('18', 50)).toBe(1);
    expect(await r.incidents.withdrawAnnotation('18', 51)).toBe(0);
    expect((await r.incidents.feedback(['i1'])).map((f) => `${f.verdict} ${f.actor}`)).toEqual([
      'expected ann',
      'real grafana:bob',
      'not_anomaly cid',
    ]);
    expect(await r.incidents.standingAnnotations(0, 20_000)).toEqual([
      { annotationId: '17', updated: 100, time: 1000, timeEnd: 1000, withdrawn: false },
    ]);
    expect((await r.incidents.appliedAnnotations(['18'])).get('18')?.withdrawn).toBe(true);
    // Seen again with a verdict (tagged back, or visible again): applied again, once.
    expect(
      await r.incidents.addAnnotationFeedback({ ...a18, appliedAt: 60 }, [given('real', 'grafana:bob', 60)]),
    ).toBe(true);
    expect(
      await r.incidents.addAnnotationFeedback({ ...a18, appliedAt: 61 }, [given('real', 'grafana:bob', 61)]),
    ).toBe(false);
    expect((await r.incidents.feedback(['i1'])).map((f) => f.at)).toEqual([10, 20, 30, 60]);

    // The span of an annotation applied before spans were kept is noted once, then it is listed.
    await r.incidents.withdrawAnnotation('17', 70);
    const legacy = { ...a17, annotationId: '19', appliedAt: 80 };
    await r.incidents.addAnnotationFeedback(legacy, []);
    await place.exec(
      "UPDATE annotation_feedback SET time_at = NULL, time_end_at = NULL WHERE annotation_id = '19'",
    );
    expect((await r.incidents.standingAnnotations(0, 5000)).map((a) => a.annotationId)).toEqual([]);
    await r.incidents.noteSpan('19', 1500, 1600);
    await r.incidents.noteSpan('19', 7000, 7000);
    expect((await r.incidents.standingAnnotations(0, 5000)).map((a) => [a.annotationId, a.time])).toEqual([
      ['19', 1500],
    ]);
  });

  it('traces the verdicts recorded before they named their annotation, where the poll that applied them was unambiguous', async () => {
    const place = await backend.place();
    const migrations = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    const n = migrations.findIndex((m) => m.includes('ADD COLUMN withdrawn_at'));
    expect(n).toBeGreaterThan(0);
    const applied =
      backend.name === 'sqlite'
        ? `PRAGMA user_version = ${n};`
        : `CREATE TABLE isoscope_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
           INSERT INTO isoscope_schema SELECT v, 0 FROM generate_series(1, ${n}) AS v;`;
    // Poll at 50 applied annotation 7 (real); poll at 60 applied 8 and 9, both real: not traceable.
    await place.exec(
      `${migrations.slice(0, n).join(';\n')};\n${applied}
       INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES ('cpu', 'cpu', '{}', 0, 0);
       INSERT INTO incidents (id, detector_id, entity, state, start_at, end_at, peak_at, peak_score, severity,
         flagged, span_rows, top_metrics, quiet_rows, recent, suppressed, created_at, updated_at)
       VALUES ('i1', 'cpu', 'web-1', 'resolved', 1000, 5000, 3000, 0.7, 'low', 2, 5, '{}', 10, '[]', 0, 10, 10);
       INSERT INTO annotation_feedback (annotation_id, updated, verdict, incidents, applied_at) VALUES
         ('7', 1, 'real', 1, 50), ('8', 1, 'real', 1, 60), ('9', 1, 'real', 1, 60);
       INSERT INTO incident_feedback (incident_id, verdict, note, actor, at) VALUES
         ('i1', 'expected', '', 'ann', 50), ('i1', 'real', '', 'grafana:bob', 50),
         ('i1', 'real', '', 'grafana:bob', 60), ('i1', 'real', '', 'grafana:cid', 60);`,
    );
    const r = await place.open();
    open.push(r);
    expect(await place.schemaVersion(r)).toBe(place.migrations);
    expect((await r.incidents.feedback(['i1'])).map((f) => [f.actor, f.annotationId])).toEqual([
      ['ann', undefined],
      ['grafana:bob', '7'],
      ['grafana:bob', undefined],
      ['grafana:cid', undefined],
    ]);
    expect(await r.incidents.withdrawAnnotation('7', 90)).toBe(1);
    expect((await r.incidents.feedback(['i1'])).map((f) => f.actor)).toEqual([
      'ann',
      'grafana:bob',
      'grafana:cid',
    ]);
  });

  it("keeps suppression rules, detector-wide or for any detector, and drops a detector's with it", async () => {
    const { r } = await fresh();
    await withVersions(r, 0);
    const nightly = {
      id: 's1',
      detectorId: 'cpu',
      entity: 'db-1',
      metric: 'usage_iowait',
      kind: 'daily' as const,
      start: 120,
      end: 180,
      reason: 'nightly backup',
      actor: 'ann',
      createdAt: 5,
    };
    expect(await r.suppressions.add(nightly)).toEqual(nightly);
    const window = {
      id: 's2',
      kind: 'period' as const,
      start: 1000,
      end: 2000,
      reason: 'migration',
      actor: 'bob',
      createdAt: 6,
    };
    expect(await r.suppressions.add(window)).toEqual(window);
    await expect(r.suppressions.add({ ...window, id: 's3', detectorId: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(r.suppressions.add(window)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await r.suppressions.list()).map((s) => s.id)).toEqual(['s1', 's2']);
    await r.suppressions.delete('s2');
    await expect(r.suppressions.delete('s2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await r.detectors.delete('cpu');
    expect(await r.suppressions.list()).toEqual([]);
  });

  it('names the damaged row instead of returning a wrong type', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 1);
    await r.detectorState.put({
      detectorId: 'cpu',
      entity: 'web1',
      stage: 'production',
      snapshot: {},
      updatedAt: 1,
    });
    await place.exec("UPDATE detectors SET spec = 'not json' WHERE id = 'cpu'");
    await place.exec("UPDATE model_versions SET metrics = '[1,' WHERE version = 1");
    await place.exec("UPDATE detector_state SET snapshot = '{' WHERE entity = 'web1'");
    await expect(r.detectors.get('cpu')).rejects.toThrow(
      expect.objectContaining({
        name: 'RegistryCorruptError',
        message: expect.stringContaining("registry: detectors row 'cpu' column spec is not JSON"),
      }),
    );
    await expect(r.models.get('cpu', 1)).rejects.toThrow(
      'model_versions row (cpu, 1) column metrics is not JSON',
    );
    await expect(r.detectorState.list('cpu')).rejects.toThrow(
      'detector_state row (cpu, web1, production) column snapshot is not JSON',
    );
    await expect(r.detectorState.list('cpu')).rejects.toBeInstanceOf(RegistryCorruptError);
  });

  it('names the column of a row whose type is wrong', async () => {
    const { r, place } = await fresh();
    await withVersions(r, 0);
    await r.jobs.create({ id: 'j1', detectorId: 'cpu', kind: 'training' }, 2);
    // SQLite does not enforce column types, so a hand-edited file can hold text in a number column;
    // PostgreSQL refuses the edit, and the check covers a row of the wrong shape either way.
    if (backend.name === 'sqlite') {
      await place.exec("UPDATE jobs SET progress = 'half' WHERE id = 'j1'");
      await expect(r.jobs.get('j1')).rejects.toThrow("registry: jobs row 'j1' is damaged at /progress");
    }
    expect(() => check(JobRow, { id: 'j1', state: 'running' }, "jobs row 'j1'")).toThrow(
      /^registry: jobs row 'j1' is damaged: must have required properties detector_id/,
    );
  });
});
