// Facts about the machine and its processes, read from /proc (Linux).

/** What the benchmark ran on. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  os: string;
  deno: string;
  v8: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** The machine's core count, CPU model, memory and runtime versions. */
export function machine(): Machine {
  const cpuinfo = readOr("/proc/cpuinfo", "");
  const meminfo = readOr("/proc/meminfo", "");
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return {
    cores: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryGb: Math.round(memKb / 1024 / 1024),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel.
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`, "");
  // The command name (field 2) may hold spaces; fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  // Deno lets only --allow-all read /proc: fail loudly rather than measure nothing.
  if (!Number.isFinite(ticks)) throw new Error(`cannot read /proc/${pid}/stat`);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Resident set size of a process, in KiB. */
export function rssKb(pid: number): number {
  const status = readOr(`/proc/${pid}/status`, "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** CPU time of this process so far, in milliseconds. */
export function selfCpuMs(): number {
  return cpuMs(Deno.pid);
}
