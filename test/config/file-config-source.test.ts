import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { FileConfigSource, type FileConfigSourceOptions } from '../../runtime/config/file-config-source.js';
import type { RuntimeConfig } from '../../runtime/config/runtime-config.js';
import { ManualClock } from '../support/manual-clock.js';

let directory: string;
let file: string;
const stops: (() => void)[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'argosync-config-'));
  file = join(directory, 'argosync.yaml');
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await rm(directory, { recursive: true, force: true });
});

function source(options: Partial<FileConfigSourceOptions> = {}): FileConfigSource {
  return new FileConfigSource({ path: file, debounceMs: 20, parse: { env: {}, hostname: 'test-host' }, ...options });
}

/** Replaces the file the way editors and `save` do: a new file renamed over the old one. */
async function replaceFile(text: string): Promise<void> {
  const temporary = join(directory, 'editor-swap.tmp');
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/** Records what a watch reports; `until` resolves as soon as the predicate holds. */
async function watchEvents(configSource: FileConfigSource) {
  const changes: RuntimeConfig[] = [];
  const rejections: Error[] = [];
  let recheck = (): void => undefined;
  stops.push(
    await configSource.watch(
      (config) => {
        changes.push(config);
        recheck();
      },
      (error) => {
        rejections.push(error);
        recheck();
      },
    ),
  );
  return {
    changes,
    rejections,
    until: (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        recheck = () => {
          if (predicate()) resolve();
        };
        recheck();
      }),
  };
}

describe('FileConfigSource.load', () => {
  it('reads a missing file as the empty configuration (all defaults)', async () => {
    const configSource = source();
    const config = await configSource.load();
    expect(config.synchronization.pollSeconds).toBe(10);
    expect(config.synchronization.controllerName).toBe('test-host');
    expect(configSource.current).toBe(config);
    expect(configSource.currentDocument).toEqual({});
  });

  it('reads YAML as Argo does (YAML 1.1 booleans) and keeps the document unexpanded', async () => {
    await writeFile(file, 'persistence:\n  archive: yes\n  clusterName: ${CLUSTER}\nsynchronization:\n  pollSeconds: 3\n');
    const configSource = source({ parse: { env: { CLUSTER: 'eu-1' } } });
    const config = await configSource.load();
    expect(config.persistence).toMatchObject({ archive: true, clusterName: 'eu-1' });
    expect(config.synchronization.pollSeconds).toBe(3);
    expect(configSource.currentDocument).toEqual({
      persistence: { archive: true, clusterName: '${CLUSTER}' },
      synchronization: { pollSeconds: 3 },
    });
  });

  it('names the file and the key of a bad value', async () => {
    await writeFile(file, 'synchronization:\n  pollSeconds: often\n');
    await expect(source().load()).rejects.toThrow(InvalidArgumentError);
    await expect(source().load()).rejects.toThrow(`invalid configuration in ${file}: synchronization.pollSeconds: must be integer`);
  });

  it('names the file and position of a YAML error without quoting the line', async () => {
    await writeFile(file, 'synchronization:\n  postgresql:\n    password: hunter2: [oops\n');
    const error = await source().load().then(
      () => new Error('expected a YAML error'),
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(new RegExp(`^invalid configuration in ${file}: YAML: .+ at line 3, column \\d+`));
    expect(error.message).not.toContain('hunter2');
  });
});

describe('FileConfigSource.watch', () => {
  it('reloads a file replaced by rename, and one rewritten in place', async () => {
    await writeFile(file, 'synchronization:\n  pollSeconds: 1\n');
    const configSource = source();
    await configSource.load();
    const events = await watchEvents(configSource);

    await replaceFile('synchronization:\n  pollSeconds: 2\n');
    await events.until(() => events.changes.at(-1)?.synchronization.pollSeconds === 2);
    expect(configSource.current?.synchronization.pollSeconds).toBe(2);

    await writeFile(file, 'synchronization:\n  pollSeconds: 4\n');
    await events.until(() => events.changes.at(-1)?.synchronization.pollSeconds === 4);
    expect(configSource.current?.synchronization.pollSeconds).toBe(4);
    expect(events.rejections).toEqual([]);
  });

  it('keeps the last good configuration when an edit is invalid, and reports why', async () => {
    await writeFile(file, 'synchronization:\n  pollSeconds: 1\n');
    const configSource = source();
    const good = await configSource.load();
    const events = await watchEvents(configSource);

    await replaceFile('synchronization:\n  pollSecs: 2\n');
    await events.until(() => events.rejections.length > 0);
    expect(events.rejections[0]).toBeInstanceOf(InvalidArgumentError);
    expect(events.rejections[0]?.message).toBe(
      `invalid configuration in ${file}: synchronization.pollSecs: unknown key (did you mean pollSeconds?)`,
    );
    expect(configSource.current).toBe(good);
    expect(events.changes).toEqual([]);

    await replaceFile('synchronization:\n  pollSeconds: 1\n'); // reverted: nothing to report
    await configSource.load(); // the revert has been read before the mistake is made again
    await replaceFile('synchronization:\n  pollSecs: 2\n'); // the same mistake again is reported again
    await events.until(() => events.rejections.length > 1);
    expect(configSource.current).toEqual(good);

    await replaceFile('synchronization:\n  pollSeconds: 5\n');
    await events.until(() => events.changes.length > 0);
    expect(configSource.current?.synchronization.pollSeconds).toBe(5);
  });

  it('reloads only after the debounce time has passed on its clock', async () => {
    const clock = new ManualClock();
    await writeFile(file, 'server:\n  port: 1111\n');
    const configSource = source({ clock, debounceMs: 500 });
    await configSource.load();
    const events = await watchEvents(configSource);
    clock.advance(500); // the reconciling read right after watch(): unchanged, so silent
    await configSource.load(); // queued behind that read, so it has finished

    const scheduled = clock.nextSchedule();
    await replaceFile('server:\n  port: 2222\n');
    await scheduled;
    clock.advance(499);
    expect(configSource.current?.server.port).toBe(1111);
    expect(clock.pendingTimers).toBe(1);

    clock.advance(1);
    await events.until(() => events.changes.length > 0);
    expect(events.changes.map((config) => config.server.port)).toEqual([2222]);
  });
});

describe('FileConfigSource.save', () => {
  it('replaces the file atomically and keeps its mode', async () => {
    await writeFile(file, 'synchronization:\n  pollSeconds: 1\n');
    await chmod(file, 0o640);
    const before = await stat(file);
    const configSource = source();
    await configSource.load();

    const saved = await configSource.save({ synchronization: { pollSeconds: 7 } });
    expect(saved.synchronization.pollSeconds).toBe(7);
    expect(configSource.current).toBe(saved);
    const after = await stat(file);
    expect(after.ino).not.toBe(before.ino); // a new file renamed into place, not rewritten in place
    expect(after.mode & 0o777).toBe(0o640);
    expect(await readdir(directory)).toEqual(['argosync.yaml']);
    expect(await source().load()).toEqual(saved);
  });

  it('is seen by the watchers of another source on the same file', async () => {
    const watched = source();
    await watched.load();
    const events = await watchEvents(watched);
    await source().save({ synchronization: { semaphoreLimitCacheSeconds: 30 } });
    await events.until(() => events.changes.length > 0);
    expect(watched.current?.synchronization.semaphoreLimitCacheSeconds).toBe(30);
  });

  it('leaves the file untouched when the document is invalid', async () => {
    await writeFile(file, 'server:\n  port: 1111\n');
    const before = await stat(file);
    const configSource = source();
    await expect(configSource.save({ server: { port: 'http' } })).rejects.toThrow(
      `invalid configuration in ${file}: server.port: must be integer`,
    );
    await expect(configSource.save({ server: { address: '${ADDRESS}' } })).rejects.toThrow(
      'server.address: environment variable ADDRESS is not set',
    );
    expect(await readFile(file, 'utf8')).toBe('server:\n  port: 1111\n');
    expect((await stat(file)).ino).toBe(before.ino);
    expect(configSource.current).toBeUndefined();
  });

  it('creates a missing file owner-only and notifies its own watchers at once', async () => {
    const configSource = source();
    await configSource.load();
    const events = await watchEvents(configSource);
    const saved = await configSource.save({ executor: { type: 'local' } });
    expect(events.changes).toEqual([saved]);
    expect(configSource.currentDocument).toEqual({ executor: { type: 'local' } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('executor:\n  type: local\n');
  });
});
