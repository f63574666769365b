/**
 * The built image under test, driven with buildah (these machines have no Docker engine; see
 * ../shared/tools/README.md). `.ci/run` builds the image and sets:
 *
 * - `BOTFLEET_IMAGE`: the image to test (required)
 * - `BOTFLEET_BASE_IMAGE`: the base it was built on (for the size budget)
 * - `BOTFLEET_CONTAINER_PREFIX`: names of the containers the tests create, so a CI trap can
 *   remove exactly those if a test is killed
 *
 * Containers run with chroot isolation: no PID namespace and the host's network, so a
 * container reaches fakes on 127.0.0.1 and its processes are visible on the host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';

/** The value of `name` from the environment; throws, explaining, when it is not set. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`${name} is not set: run the container tests through .ci/run, or set it to a built image`);
  return value;
}

const PREFIX = process.env.BOTFLEET_CONTAINER_PREFIX ?? `botfleet-test-${process.pid}`;

/** A finished command. */
export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `buildah ...args` to completion, with `input` on its standard input. */
export function buildah(args: readonly string[], input?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn('buildah', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function buildahOk(args: readonly string[]): Promise<string> {
  const result = await buildah(args);
  if (result.code !== 0) throw new Error(`buildah ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** `buildah inspect --type image` of `image`, parsed. */
export async function inspectImage(image: string): Promise<ImageInspect> {
  return JSON.parse(await buildahOk(['inspect', '--type', 'image', image])) as ImageInspect;
}

/** The parts of `buildah inspect --type image` the tests read. */
export interface ImageInspect {
  /** The Docker-format config (the image is built with --format docker). */
  readonly Docker: { readonly config: ImageConfig };
  readonly OCIv1: { readonly config: ImageConfig };
  /** The manifest as a JSON string; layers are listed with their (uncompressed) sizes. */
  readonly Manifest: string;
}

export interface ImageConfig {
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Cmd?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly Volumes?: Record<string, unknown> | null;
  readonly Env?: readonly string[];
  /** HEALTHCHECK (Docker format only; the OCI format has none). */
  readonly Healthcheck?: { readonly Test: readonly string[] };
}

/** Layer sizes of `image`, bottom first, keyed by digest. */
export async function layers(image: string): Promise<{ digest: string; size: number }[]> {
  const manifest = JSON.parse((await inspectImage(image)).Manifest) as { layers: { digest: string; size: number }[] };
  return manifest.layers.map(({ digest, size }) => ({ digest, size }));
}

/** Bytes `image` adds on top of `base`: the sizes of its layers that `base` does not have. */
export async function bytesAddedOver(image: string, base: string): Promise<number> {
  const [own, under] = await Promise.all([layers(image), layers(base)]);
  const shared = new Set(under.map((layer) => layer.digest));
  return own.filter((layer) => !shared.has(layer.digest)).reduce((sum, layer) => sum + layer.size, 0);
}

/** Working containers made by `newContainer`; `removeContainers` removes them. */
const created = new Set<string>();

/**
 * A new working container from `image`, named with the CI prefix, without the image's VOLUMEs.
 * `buildah run` mounts its own copy of each at its path, and with buildah 1.28 (Debian
 * bookworm) that copy sometimes wins over a bind mount at the same path (`-v DIR:/data`): the
 * container then sees an empty /data. Docker mounts the given volume instead; dropping the
 * VOLUME from the working container (not the image) makes `-v` behave the same here, and
 * without a mount /data is the image's own folder.
 */
export async function newContainer(image: string, label: string): Promise<string> {
  const name = `${PREFIX}-${label}-${randomUUID().slice(0, 8)}`;
  await buildahOk(['from', '--name', name, image]);
  created.add(name);
  const volumes = Object.keys((await inspectImage(image)).Docker.config.Volumes ?? {});
  if (volumes.length > 0) await buildahOk(['config', ...volumes.flatMap((volume) => ['--volume', `${volume}-`]), name]);
  return name;
}

export async function removeContainer(name: string): Promise<void> {
  await buildahOk(['rm', name]);
  created.delete(name);
}

/** Removes every container `newContainer` made and that is still there. */
export async function removeContainers(): Promise<void> {
  for (const name of [...created]) await removeContainer(name);
}

/** Options of a command run in a container. */
export interface RunOptions {
  readonly user?: string;
  /** Bind mounts, `host:container[:options]`. */
  readonly volumes?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the command's standard input (which is closed otherwise). */
  readonly input?: string;
}

function runArgs(container: string, command: readonly string[], options: RunOptions): string[] {
  return [
    'run',
    '--isolation',
    'chroot',
    ...(options.user === undefined ? [] : ['--user', options.user]),
    ...(options.volumes ?? []).flatMap((volume) => ['-v', volume]),
    ...Object.entries(options.env ?? {}).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
    container,
    '--',
    ...command,
  ];
}

/** Runs `command` in `container` to completion (`buildah run` passes its exit status on). */
export function runIn(container: string, command: readonly string[], options: RunOptions = {}): Promise<Finished> {
  return buildah(runArgs(container, command, options), options.input);
}

/** A command running in a container. */
export interface Started {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** Sends `signal` to the command itself (see `commandPid`), not to `buildah run`. */
  signal(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `command` in `container` in the background. */
export function startIn(container: string, command: readonly string[], options: RunOptions = {}): Started {
  const child = spawn('buildah', runArgs(container, command, options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async signal(signal) {
      if (child.pid === undefined) throw new Error('buildah run did not start');
      process.kill(await commandPid(child.pid), signal);
    },
  };
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly argv0: string;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv0 = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0')[0] ?? '';
      out.push({ pid: Number(entry), ppid, argv0 });
    } catch {}
  }
  return out;
}

/**
 * The pid of the command `buildah run` (pid `buildahPid`) started: the child of
 * `buildah-chroot-exec`. Signalling `buildah run` itself would SIGKILL the command, so a
 * clean-stop test signals this one.
 */
export async function commandPid(buildahPid: number): Promise<number> {
  const all = await processes();
  const descendants = new Set([buildahPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (descendants.has(p.ppid) && !descendants.has(p.pid)) {
        descendants.add(p.pid);
        grew = true;
      }
    }
  }
  const execs = new Set(
    all.filter((p) => descendants.has(p.pid) && p.argv0 === 'buildah-chroot-exec').map((p) => p.pid),
  );
  const command = all.find((p) => execs.has(p.ppid));
  if (command === undefined) throw new Error(`no command process found under buildah run (pid ${buildahPid})`);
  return command.pid;
}
