/**
 * Reload edge cases over real HTTP: a reload either applies or leaves the fleet as it was (and
 * the log says which), shutdown wins over a reload in progress, a reload never leaves the
 * process idle, and configs mounted through symlinks (Kubernetes ConfigMaps) reload.
 */
import { appendFile, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../src/app.js';
import type { FleetConfig } from '../../src/config/types.js';
import { type ReloaderHandle, startReloader } from '../../src/reload.js';
import { LEVEL } from '../support/capture-log.js';
import { createFleetHarness, type FleetHarness, type TestBot } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const FIRST = '9101:first-token';
const SECOND = '9102:second-token';
const THIRD = '9103:third-token';
const first: TestBot = { id: 'first', token: FIRST };
const second: TestBot = { id: 'second', token: SECOND };

describe('reload safety', () => {
  let h: FleetHarness;
  let fleet: FleetHandle;
  let config: FleetConfig;
  let reloader: ReloaderHandle | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => {
    await reloader?.close();
    reloader = undefined;
    await h.close();
  });

  const start = async (bots: TestBot[], file = 'bots.yaml', watch = true) => {
    await h.writeConfig(bots);
    ({ fleet, config } = await h.start());
    reloader = startReloader({ file, cwd: h.dir, env: {}, fleet, logger: h.logger, watch, debounceMs: 50 });
  };
  const messages = () => h.logs().map((l) => String(l.msg));
  const reloads = () => h.logs().filter((l) => /^config (not |partly )?reloaded/.test(String(l.msg)));
  const waitForReload = () => waitFor(() => reloads()[0], { what: 'a reload log line' });

  it('runs a bot whose telegram.apiRoot ends with a slash', async () => {
    await start([first, second]);
    const third: TestBot = { id: 'third', token: THIRD, yaml: `telegram: { apiRoot: "${h.telegram.apiRoot}/" }` };
    await h.writeConfig([first, third]);
    expect(await waitForReload()).toMatchObject({ msg: 'config reloaded', added: ['third'], removed: ['second'] });
    h.telegram.sendText(THIRD, { chatId: 1, userId: 1, text: 'hello third' });
    await h.telegram.waitForSent(1, { token: THIRD });
  });

  it('changes nothing when a bot of the new config cannot be set up, and says so', async () => {
    await start([first, second]);
    const broken = { ...config.bots[0], id: 'broken', token: '' } as FleetConfig['bots'][number];
    const next = { ...config, bots: [config.bots[0], broken] } as FleetConfig;
    await expect(fleet.apply(next)).rejects.toThrow(/bot broken cannot start.*nothing was changed/);
    expect([...fleet.bots.keys()]).toEqual(['first', 'second']);
    expect(fleet.bots.get('second')?.state()).toBe('polling');
    await waitFor(() => h.telegram.isPolling(SECOND), { what: 'second to keep polling' });
    expect(h.telegram.calls(SECOND, 'getMe')).toHaveLength(1);
    // The fleet still knows what runs: a later valid config removes `second` as usual.
    const plan = await fleet.apply({ ...config, bots: [config.bots[0]] } as FleetConfig);
    expect(plan.removed).toEqual(['second']);
  });

  it('starts no bot once shutdown began, even with a reload in progress', async () => {
    await start([first], 'bots.yaml', false);
    h.telegram.addBot(SECOND, { username: 'second_bot' });
    await h.writeConfig([first, second]);
    const reloading = reloader?.reload('SIGHUP');
    await fleet.stop(2000);
    await reloading;
    expect(fleet.bots.has('second')).toBe(false);
    expect(h.telegram.calls(SECOND)).toEqual([]);
    expect(messages().indexOf('stopped')).toBeGreaterThan(-1);
  });

  it('stops like at start-up when a reload leaves only bots whose token Telegram rejected', async () => {
    const bad: TestBot = { id: 'bad', token: '9109:bad-token', known: false };
    await start([first, bad]);
    let noBotLeft = false;
    void fleet.noBotLeft.then(() => (noBotLeft = true));
    await h.writeConfig([bad]);
    await waitForReload();
    await waitFor(() => noBotLeft, { what: 'the fleet to report that no bot is left' });
  });

  it('refuses a reload that would enable no bot, and keeps the fleet', async () => {
    await start([first]);
    await h.writeConfig([{ ...first, yaml: 'enabled: false' }]);
    expect((await waitForReload()).msg).toBe(
      'config not reloaded: bots.yaml enables no bot; set enabled: true on at least one. The running fleet is unchanged',
    );
    expect(h.telegram.isPolling(FIRST)).toBe(true);
  });

  it('waits for a file being written in place to settle instead of loading it cut off', async () => {
    await h.writeConfig([first, second]);
    ({ fleet, config } = await h.start());
    reloader = startReloader({
      file: 'bots.yaml',
      cwd: h.dir,
      env: {},
      fleet,
      logger: h.logger,
      watch: true,
      debounceMs: 400,
    });
    const text = await readFile(h.configPath, 'utf8');
    const cut = text.indexOf('  second:');
    await writeFile(h.configPath, text.slice(0, cut)); // valid YAML, but without `second`
    await waitFor(() => messages().some((m) => m.startsWith('reload requested')), { what: 'the reload to begin' });
    await appendFile(h.configPath, text.slice(cut));
    await waitForReload();
    await reloader.close();
    expect(reloads().map((l) => l.msg)).toEqual(reloads().map(() => 'config reloaded: nothing changed'));
    expect(fleet.bots.get('second')?.state()).toBe('polling');
  });

  it('reloads a config mounted the way Kubernetes mounts a ConfigMap (..data symlink swap)', async () => {
    await h.writeConfig([first]);
    const text = await readFile(h.configPath, 'utf8');
    const mount = join(h.dir, 'mount');
    await mkdir(join(mount, '..v1'), { recursive: true });
    await writeFile(join(mount, '..v1', 'bots.yaml'), text);
    await symlink('..v1', join(mount, '..data'));
    await symlink('..data/bots.yaml', join(mount, 'bots.yaml'));
    await start([first], 'mount/bots.yaml');

    h.telegram.addBot(SECOND, { username: 'second_bot' });
    await h.writeConfig([first, second]);
    await mkdir(join(mount, '..v2'));
    await writeFile(join(mount, '..v2', 'bots.yaml'), await readFile(h.configPath, 'utf8'));
    await symlink('..v2', join(mount, '..data_tmp'));
    await rename(join(mount, '..data_tmp'), join(mount, '..data'));
    expect(await waitForReload()).toMatchObject({ msg: 'config reloaded', added: ['second'] });
    expect(h.logs().filter((l) => l.level >= LEVEL.error)).toEqual([]);
  });

  it('reloads a config that is a symlink to a file in another folder when that file is saved', async () => {
    await mkdir(join(h.dir, 'link'));
    await symlink(h.configPath, join(h.dir, 'link', 'bots.yaml'));
    await start([first], 'link/bots.yaml');
    h.telegram.addBot(SECOND, { username: 'second_bot' });
    await h.writeConfig([first, second]); // saved where the link points, by rename
    expect(await waitForReload()).toMatchObject({ msg: 'config reloaded', added: ['second'] });
  });
});
