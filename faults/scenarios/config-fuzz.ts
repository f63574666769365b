/**
 * Config fuzz: generated files (lib/config-gen.ts) through `check`, most in this process
 * (the CLI's own `main`, imported from dist/cli.js), a sample as `node dist/cli.js check`
 * processes, and a sample of the rejected ones saved over the config of a running fleet.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { generateConfigs, validConfig } from '../lib/config-gen.js';
import { atMost, type Context, info, type Row, type ScenarioResult, sleep, waitUntil } from '../lib/context.js';
import { exchange, requestsWith } from '../lib/conversation.js';
import { startFakes } from '../lib/fakes.js';
import { fleetEnv, startFleet } from '../lib/fleet.js';
import { CLI_PATH } from '../lib/paths.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { keep, newApiKey, newToken } from '../lib/secrets.js';

interface CheckResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

type Main = (io: {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  isTTY: boolean;
}) => Promise<number>;

const STACK = /^\s+at\s/m;

/** How a check went wrong, if it did: 'crash' (internal error, stack trace, hang) or
 * 'unlocated' (an error line without FILE:LINE:COL). */
function judge(result: CheckResult, file: string): 'crash' | 'unlocated' | 'valid' | 'invalid' {
  const out = `${result.stdout}${result.stderr}`;
  if (result.code === null || /internal error/.test(out) || STACK.test(out)) return 'crash';
  if (result.code === 0) return 'valid';
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  const located = new RegExp(`^${file.replace('.', '\\.')}:\\d+:\\d+[ :]`);
  if (lines.length === 0 || lines.some((l) => !located.test(l))) return 'unlocated';
  return 'invalid';
}

function spawnCheck(dir: string, file: string, env: Record<string, string>): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'check', '--config', file], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function configFuzz(ctx: Context): Promise<ScenarioResult> {
  const scenario = 'config fuzz';
  const total = ctx.quick ? 250 : 10_000;
  const spawned = ctx.quick ? 3 : 50;
  const reloads = ctx.quick ? 2 : 30;
  const fakes = await startFakes({ modelMs: 5 });
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-fuzz-'));
  const tokens = [newToken(7_500_001), newToken(7_500_002)];
  for (const token of tokens) await fakes.addBot(token);
  const env = fleetEnv({
    storageUrl: '',
    namespace: '',
    apiRoot: '',
    baseUrl: '',
    apiKey: newApiKey(),
    bots: tokens.map((token, i) => ({ id: `f${i}`, token })),
  });
  const base = validConfig(fakes.apiRoot, fakes.baseUrl, 'sqlite://data/fuzz.sqlite');
  const configs = generateConfigs(base, total, 16);
  const { main } = (await import(pathToFileURL(CLI_PATH).href)) as { main: Main };
  const counts = { crash: 0, unlocated: 0, valid: 0, invalid: 0, disagree: 0 };
  const examples: string[] = [];
  const invalid: string[] = [];
  let fleet: ReturnType<typeof startFleet> | undefined;
  try {
    for (const [i, text] of configs.entries()) {
      const file = i < spawned ? `spawned.yaml` : 'fuzz.yaml';
      await writeFile(join(dir, file), text);
      let stdout = '';
      let stderr = '';
      const code = await Promise.race([
        main({
          argv: ['check', '--config', file],
          env,
          cwd: dir,
          stdout: (t) => {
            stdout += t;
          },
          stderr: (t) => {
            stderr += t;
          },
          isTTY: false,
        }),
        sleep(20_000).then(() => null),
      ]);
      const result = { code, stdout, stderr };
      keep(`check (in-process) of fuzzed config ${i}`, `${stdout}${stderr}`);
      const verdict = judge(result, file);
      counts[verdict]++;
      if ((verdict === 'crash' || verdict === 'unlocated') && examples.length < 5)
        examples.push(
          `${verdict}: ${JSON.stringify(text.slice(0, 200))} → ${JSON.stringify(`${stdout}${stderr}`.slice(0, 300))}`,
        );
      if (verdict === 'invalid' && invalid.length < reloads) invalid.push(text);
      if (i < spawned) {
        const child = await spawnCheck(dir, file, env);
        keep(`check (process) of fuzzed config ${i}`, `${child.stdout}${child.stderr}`);
        const childVerdict = judge(child, file);
        if (childVerdict !== verdict) {
          counts.disagree++;
          if (examples.length < 5)
            examples.push(
              `process said ${childVerdict}, in-process ${verdict}: ${JSON.stringify(`${child.stdout}${child.stderr}`.slice(0, 300))}`,
            );
        }
        if (childVerdict === 'crash' || childVerdict === 'unlocated') counts[childVerdict]++;
      }
      if ((i + 1) % (ctx.quick ? 100 : 1000) === 0) ctx.progress(`${scenario}: ${i + 1}/${total} checked`);
    }

    ctx.progress(`${scenario}: ${total} checked; live reloads next`);
    // Live reload: the rejected files saved over a running fleet's config, one after another.
    const live = join(dir, 'live');
    await import('node:fs/promises').then((fs) => fs.mkdir(live));
    await writeFile(join(live, 'bots.yaml'), stringify(base));
    const since = await callCursor(fakes);
    fleet = startFleet(live, env, { label: `${scenario}: live reload fleet` });
    await Promise.all(tokens.map((t) => waitForCall(fakes, t, 'getUpdates', since)));
    const messages = (): string[] => (fleet?.logs() ?? []).map((l) => String(l.msg ?? ''));
    let changed = 0;
    let notLogged = 0;
    for (const [i, text] of invalid.entries()) {
      const before = messages().length;
      await writeFile(join(live, '.next.yaml'), text);
      await rename(join(live, '.next.yaml'), join(live, 'bots.yaml'));
      const logged = await waitUntil(() => messages().length > before, 8000, 'a reload log line').then(
        () => true,
        () => false,
      );
      if (!logged) notLogged++;
      await sleep(300);
      changed += messages()
        .slice(before)
        .filter((m) => /^config (partly )?reloaded/.test(m)).length;
      if (i === 0 || i === invalid.length - 1) {
        const ex = await exchange(fakes, tokens[0] as string, 9101, `F${i}Z`, { timeoutMs: 10_000 });
        if (ex.outcome !== 'answer') changed++;
      }
    }
    // The control: a valid edit is seen and applied.
    const before = messages().length;
    const edited = structuredClone(base) as { bots: { f0: { greeting: string } } };
    edited.bots.f0.greeting = 'hello again';
    await writeFile(join(live, '.next.yaml'), stringify(edited));
    await rename(join(live, '.next.yaml'), join(live, 'bots.yaml'));
    const controlSeen = await waitUntil(
      () =>
        messages()
          .slice(before)
          .some((m) => m.startsWith('config reloaded')),
      10_000,
      'the valid edit to be reloaded',
    ).then(
      () => true,
      () => false,
    );
    await fakes.say(tokens[0] as string, 990_005, 'OUTSIDER after the fuzz');
    await sleep(500);
    const exit = await fleet.stop();
    const crashed = exit.code !== 0 ? 1 : 0;
    const stackInLog = STACK.test(fleet.output()) ? 1 : 0;
    const rows: Row[] = [
      info(
        scenario,
        'configs checked: valid / invalid (in-process; spawned as processes)',
        `${total}: ${counts.valid} / ${counts.invalid + counts.unlocated} (${total - spawned}; ${spawned})`,
      ),
      atMost(scenario, 'crashes, hangs or stack traces in `check`', counts.crash, 0),
      atMost(scenario, 'errors without FILE:LINE:COL', counts.unlocated, 0),
      atMost(scenario, 'spawned `check` disagreeing with the in-process one', counts.disagree, 0),
      atMost(
        scenario,
        `reloads that changed the running fleet after an invalid file (of ${invalid.length} saved over it)`,
        changed,
        0,
      ),
      atMost(scenario, 'invalid saves the running fleet did not log', notLogged, 0),
      atMost(scenario, 'fleet crashes or stack traces during the reloads', crashed + stackInLog, 0),
      info(scenario, 'control: a valid edit after them was reloaded', controlSeen ? 'yes' : 'NO'),
    ];
    return {
      rows,
      notes: [
        `${scenario}: ${total} files generated with fast-check (seed 16): mutations of a valid two-bot file (values of other types, odd Unicode, huge values, unknown keys, removed keys), broken YAML text, anchors/aliases/merge keys, anything at all. All go through the CLI's \`main\` in this process (\`check --config\`); the first ${spawned} also through \`node dist/cli.js check\` as processes. ${invalid.length} rejected files were then saved (write + rename) over the config of a running fleet.`,
        ...examples.map((e) => `${scenario} example: ${e}`),
      ],
      outsiderModelCalls: requestsWith(await fakes.requests(), 'OUTSIDER'),
      crashes: counts.crash + crashed,
    };
  } finally {
    await fleet?.stop();
    await fakes.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
