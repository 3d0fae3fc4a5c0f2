// Facts about the machine and its processes, read from /proc (Linux).

/** What the benchmark ran on. */
export interface Machine {
  cores: number;
  /** The CPU's model name, e.g. "Intel(R) Xeon(R) Processor". */
  cpu: string;
  /** Vendor, family, model and stepping, e.g. "GenuineIntel family 6 model 167 stepping 1". */
  cpuModel: string;
  /** Clock as reported, MHz. */
  cpuMHz: number;
  /** Whether the CPU flags say it runs under a hypervisor. */
  virtual: boolean;
  memoryGb: number;
  os: string;
  deno: string;
  v8: string;
  /** OpenSSL's version text (the libcrypto the OpenSSL backend loaded), or null. */
  openssl: string | null;
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** The machine's core count, CPU model, memory and runtime versions. */
export function machine(openssl: string | null): Machine {
  const cpuinfo = readOr("/proc/cpuinfo", "");
  const meminfo = readOr("/proc/meminfo", "");
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  const field = (name: string) =>
    new RegExp(`^${name}\\s*:\\s*(.+)$`, "m").exec(cpuinfo)?.[1]?.trim();
  const numbers = [["family", "cpu family"], ["model", "model"], ["stepping", "stepping"]]
    .flatMap(([label, name]) => field(name) === undefined ? [] : [`${label} ${field(name)}`]);
  const cpuModel = [field("vendor_id") ?? "unknown", ...numbers].join(" ");
  return {
    cores: navigator.hardwareConcurrency,
    cpu: field("model name") ?? "unknown",
    cpuModel,
    cpuMHz: Math.round(Number(field("cpu MHz") ?? 0)),
    virtual: /\bhypervisor\b/.test(field("flags") ?? ""),
    memoryGb: Math.round(memKb / 1024 / 1024),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    openssl,
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

/**
 * CPU time the whole machine has been busy in processes (every core, user
 * and system time) or taken by the hypervisor (steal), in milliseconds.
 * Interrupt time is left out: loopback traffic is mostly accounted there
 * rather than to the process that caused it.
 */
export function machineBusyMs(): number {
  const line = readOr("/proc/stat", "").split("\n")[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = user + nice + system + (steal ?? 0);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : NaN;
}

/**
 * CPU time of process `root` and every live descendant, including the
 * children each has already reaped (cutime, cstime), in milliseconds.
 */
export function treeCpuMs(root: number = Deno.pid): number {
  const parents = new Map<number, number>();
  const times = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readOr(`/proc/${entry.name}/stat`, "");
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry.name);
    parents.set(pid, Number(fields[1]));
    // utime, stime, cutime, cstime
    times.set(
      pid,
      Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    );
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) {
      if (p === root) return true;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, t] of times) if (inTree(pid)) ticks += t;
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** A stopwatch of wall time and of CPU used by processes outside this one's tree. */
export class StepClock {
  readonly #wall = performance.now();
  readonly #machine = machineBusyMs();
  readonly #tree = treeCpuMs();

  /** Seconds so far, and cores used on average by other processes meanwhile. */
  read(): { seconds: number; otherCores: number } {
    const wall = performance.now() - this.#wall;
    const other = machineBusyMs() - this.#machine - (treeCpuMs() - this.#tree);
    return {
      seconds: Math.round(wall / 1000),
      otherCores: wall > 0 ? Math.max(0, Math.round((other / wall) * 100) / 100) : 0,
    };
  }
}
