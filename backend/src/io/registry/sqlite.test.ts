import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { SqliteRegistry } from './sqlite.js';
import { RegistryError } from './types.js';

const dirs: string[] = [];
const file = (): string => {
  dirs.push(mkdtempSync(join(tmpdir(), 'isoscope-registry-')));
  return join(dirs.at(-1)!, 'registry.db');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const spec = { source: { preset: 'cpu' } };

describe('SqliteRegistry', () => {
  it('applies the numbered migrations once, and keeps data across reopening', async () => {
    const path = file();
    const a = new SqliteRegistry(path);
    expect(a.schemaVersion).toBe(MIGRATIONS.length);
    await a.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    await a.close();
    const b = new SqliteRegistry(path);
    expect((await b.listDetectors()).map((d) => d.id)).toEqual(['cpu']);
    expect(await b.ping()).toBe(true);
    await b.close();
  });

  it('creates, updates and deletes detectors; names are unique', async () => {
    const r = new SqliteRegistry(file());
    const d = await r.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    expect(d).toEqual({ id: 'cpu', name: 'CPU', spec, createdAt: 1, updatedAt: 1 });
    await expect(r.createDetector({ id: 'cpu2', name: 'CPU', spec }, 2)).rejects.toThrow(
      "a detector named 'CPU' already exists",
    );
    expect((await r.updateDetector('cpu', { name: 'CPU total' }, 3)).name).toBe('CPU total');
    await expect(r.updateDetector('nope', {}, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await r.deleteDetector('cpu');
    expect(await r.getDetector('cpu')).toBeUndefined();
  });

  it('keeps one production version: promoting archives the previous one in the same transaction; rollback restores it', async () => {
    const r = new SqliteRegistry(file());
    await r.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    const add = (): Promise<unknown> =>
      r.addModelVersion(
        { detectorId: 'cpu', entity: '', bundle: '{}', metrics: { f1: 0.5 }, params: {} },
        'ci',
        2,
      );
    await add();
    await add();
    await r.setStage('cpu', 1, 'production', 'alice', 'first model', 3);
    await r.setStage('cpu', 2, 'staging', 'alice', 'shadow scoring', 4);
    await r.setStage('cpu', 2, 'production', 'alice', 'better recall', 5);
    const stages = (await r.listModelVersions('cpu')).map((v) => [v.version, v.stage]);
    expect(stages).toEqual([
      [2, 'production'],
      [1, 'archived'],
    ]);
    const back = await r.rollback('cpu', 'bob', 'false alarms', 6);
    expect(back.version).toBe(1);
    expect((await r.listModelVersions('cpu')).map((v) => [v.version, v.stage])).toEqual([
      [2, 'archived'],
      [1, 'production'],
    ]);
    const history = await r.stageHistory('cpu');
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
  });

  it('changes nothing when a stage change fails', async () => {
    const r = new SqliteRegistry(file());
    await r.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    await r.addModelVersion(
      { detectorId: 'cpu', entity: '', bundle: '{}', metrics: {}, params: {} },
      'ci',
      2,
    );
    await r.setStage('cpu', 1, 'production', 'alice', 'go', 3);
    const before = await r.stageHistory('cpu');
    await expect(r.setStage('cpu', 9, 'production', 'alice', 'typo', 4)).rejects.toBeInstanceOf(
      RegistryError,
    );
    await expect(r.rollback('cpu', 'alice', 'nothing earlier', 5)).rejects.toThrow(
      'no earlier production version',
    );
    expect(await r.stageHistory('cpu')).toEqual(before);
    expect((await r.getModelVersion('cpu', 1))!.stage).toBe('production');
  });

  it('marks jobs a previous process left running as failed', async () => {
    const path = file();
    const a = new SqliteRegistry(path);
    await a.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    await a.createJob({ id: 'j1', detectorId: 'cpu', kind: 'training' }, 2);
    await a.updateJob('j1', { state: 'running', phase: 'grid search', progress: 0.4, startedAt: 3 });
    await a.createJob({ id: 'j2', detectorId: 'cpu', kind: 'training' }, 4);
    await a.updateJob('j2', { state: 'succeeded', progress: 1, finishedAt: 5, result: { version: 1 } });
    await a.close();
    const b = new SqliteRegistry(path);
    expect(await b.failInterruptedJobs(10)).toBe(1);
    expect(await b.getJob('j1')).toMatchObject({
      state: 'failed',
      finishedAt: 10,
      error: expect.stringContaining('interrupted'),
    });
    expect(await b.getJob('j2')).toMatchObject({ state: 'succeeded', result: { version: 1 } });
  });

  it('stores token hashes, finds active ones, and revokes', async () => {
    const r = new SqliteRegistry(file());
    await r.createToken({ id: 't1', name: 'grafana', role: 'viewer', hash: 'h1' }, 1);
    expect(await r.findToken('h1')).toMatchObject({ id: 't1', role: 'viewer' });
    await r.revokeToken('t1', 2);
    expect(await r.findToken('h1')).toBeUndefined();
    await expect(r.revokeToken('t1', 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps one runtime state per detector, entity and stage, lists them without snapshots, and drops them with the detector', async () => {
    const path = file();
    const r = new SqliteRegistry(path);
    await r.createDetector({ id: 'cpu', name: 'CPU', spec }, 1);
    const base = {
      detectorId: 'cpu',
      entity: 'web-1',
      version: 1,
      scoredTo: 60_000,
      snapshot: '{"a":1}',
      updatedAt: 2,
    };
    await r.setRuntimeState({ ...base, stage: 'production' });
    await r.setRuntimeState({ ...base, stage: 'staging', version: 2 });
    await r.setRuntimeState({
      ...base,
      stage: 'production',
      scoredTo: 120_000,
      snapshot: '{"a":2}',
      updatedAt: 3,
    });
    await r.close();
    const b = new SqliteRegistry(path);
    expect(await b.getRuntimeState('cpu', 'web-1', 'production')).toEqual({
      ...base,
      stage: 'production',
      scoredTo: 120_000,
      snapshot: '{"a":2}',
      updatedAt: 3,
    });
    expect(await b.getRuntimeState('cpu', 'web-2', 'production')).toBeUndefined();
    expect((await b.listRuntimeStates('cpu')).map((s) => [s.stage, s.version, s.snapshot])).toEqual([
      ['production', 1, ''],
      ['staging', 2, ''],
    ]);
    await b.deleteRuntimeState('cpu', 'web-1', 'staging');
    expect(await b.listRuntimeStates('cpu')).toHaveLength(1);
    await b.deleteDetector('cpu');
    expect(await b.listRuntimeStates('cpu')).toEqual([]);
    await b.close();
  });
});
