/** CPU time and memory of another process, read from Linux's /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 when unknown). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // No getconf: Linux has used 100 ticks a second on every common architecture for decades.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds `pid` has used so far. Throws when the process is gone. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** Memory of `pid` in MB (1 MB = 1,048,576 bytes): resident now (VmRSS) and its peak (VmHWM). */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** CPU seconds the whole machine has used since boot (from /proc/stat): in processes (user,
 * nice, system), in interrupts (irq, softirq: much of loopback networking) and stolen by the
 * hypervisor. NaN everywhere when /proc/stat is missing. */
export function machineCpu(): { processes: number; interrupts: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    const ticks = clockTicks();
    return { processes: (user + nice + system) / ticks, interrupts: (irq + softirq) / ticks, steal: steal / ticks };
  } catch {
    // No /proc/stat (not Linux): the "other load" figures are then unknown, nothing else is.
    return { processes: NaN, interrupts: NaN, steal: NaN };
  }
}

/** CPU seconds used so far by every process whose command name is `name` (e.g. the shared
 * redis-server, part of the system under test in the Redis runs). */
export function cpuSecondsByName(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) total += cpuSeconds(Number(entry));
    } catch {}
  }
  return total;
}

/** The CPU model of this machine, for the results header. */
export function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    // Not Linux (or no /proc): the header says so instead of failing the run.
    return 'unknown CPU';
  }
}
