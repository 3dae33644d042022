// Where running machines register, per host user: $XDG_RUNTIME_DIR/starling, else
// /run/user/UID/starling, else /tmp/starling-UID; the directory is mode 0700 and owned by the
// user (anything else is refused, so another user cannot plant or read entries). Each machine
// writes NAME.json (how to reach it) and NAME.token (the secret clients present, mode 0600);
// its event log is NAME.events.jsonl unless --event-log says otherwise (the newest 32 logs of
// ended machines, and those younger than an hour, are kept; a start looks at most every 10
// minutes, recorded by the mtime of .pruned).
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface MachineEntry {
  name: string;
  /** The host pid of the starling process. */
  pid: number;
  port: number;
  cpus: number;
  program: string;
  /** Date.now() at start. */
  startedAt: number;
  eventLog: string;
}

export class RuntimeDirError extends Error {}

/** A machine name: what `starling ps` lists and `MACHINE` arguments name. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function runtimeDir(): string {
  const uid = process.getuid!();
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/') && existsSync(xdg)) return join(xdg, 'starling');
  if (existsSync(`/run/user/${uid}`)) return join(`/run/user/${uid}`, 'starling');
  return `/tmp/starling-${uid}`;
}

/** Creates the directory if needed and checks that only this user can use it. */
export function ensureRuntimeDir(): string {
  const dir = runtimeDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid!()) throw new RuntimeDirError(`${dir} is not a directory of this user: refusing to use it`);
  if (st.mode & 0o077) chmodSync(dir, 0o700);
  return dir;
}

const entryPath = (dir: string, name: string) => join(dir, `${name}.json`);
const tokenPath = (dir: string, name: string) => join(dir, `${name}.token`);
export const defaultEventLog = (dir: string, name: string) => join(dir, `${name}.events.jsonl`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readEntry(dir: string, name: string): MachineEntry | null {
  try {
    return JSON.parse(readFileSync(entryPath(dir, name), 'utf8')) as MachineEntry;
  } catch {
    return null;
  }
}

function forget(dir: string, name: string): void {
  rmSync(entryPath(dir, name), { force: true });
  rmSync(tokenPath(dir, name), { force: true });
}

/** A machine that died without unregistering leaves its entry behind: it is removed here. */
function liveEntry(dir: string, name: string): MachineEntry | null {
  const entry = readEntry(dir, name);
  if (entry && alive(entry.pid)) return entry;
  if (entry || existsSync(tokenPath(dir, name))) forget(dir, name);
  return null;
}

/** The running machines of this user, oldest first (stale entries are cleaned on the way). */
export function listMachines(): MachineEntry[] {
  const dir = runtimeDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => liveEntry(dir, f.slice(0, -'.json'.length)))
    .filter((e): e is MachineEntry => e !== null)
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** The machine called name and its token, or an error a user can act on. */
export function findMachine(name: string): { entry: MachineEntry; token: string } {
  const dir = runtimeDir();
  const entry = NAME_PATTERN.test(name) && existsSync(dir) ? liveEntry(dir, name) : null;
  if (!entry) throw new RuntimeDirError(`no such machine: ${name} (see starling ps)`);
  try {
    return { entry, token: readFileSync(tokenPath(dir, name), 'utf8').trim() };
  } catch {
    throw new RuntimeDirError(`machine ${name} has no readable token in ${dir}`);
  }
}

/** A name nobody in this user's directory uses: the program's name and a random suffix. */
export function generateName(program: string): string {
  const base = (program.split('/').pop() ?? 'machine').replace(/[^A-Za-z0-9_.-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40) || 'machine';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/**
 * Event logs of ended machines kept in the directory: the newest 32, and any younger than an
 * hour (a client may be about to read it). --event-log files are the user's.
 */
const KEPT_EVENT_LOGS = 32;
const KEPT_EVENT_LOG_MS = 3600_000;
/**
 * Pruning looks at every log's mtime: a test run leaves thousands (an hour's), whose lstats
 * took each start 15-25 ms of a core while its workers booted (/bin/true: 0.19-0.21 s, 0.17-0.19 s
 * without). Once every so often is enough, as nothing is due for removal sooner than that.
 */
const PRUNE_INTERVAL_MS = 600_000;
const PRUNE_STAMP = '.pruned';

/** Whether this start prunes: the stamp is older than the interval (or missing), and is renewed here. */
function pruneDue(dir: string): boolean {
  const stamp = join(dir, PRUNE_STAMP);
  const now = Date.now();
  if (now - mtimeOf(stamp) < PRUNE_INTERVAL_MS) return false;
  writeFileSync(stamp, '', { mode: 0o600 });
  return true;
}

function pruneEventLogs(dir: string): void {
  if (!pruneDue(dir)) return;
  const running = new Set(listMachines().map((m) => m.name));
  const ended = readdirSync(dir)
    .filter((f) => f.endsWith('.events.jsonl') && !running.has(f.slice(0, -'.events.jsonl'.length)))
    .map((f) => ({ path: join(dir, f), mtime: mtimeOf(join(dir, f)) }))
    .sort((a, b) => b.mtime - a.mtime);
  const now = Date.now();
  for (const old of ended.slice(KEPT_EVENT_LOGS)) if (now - old.mtime > KEPT_EVENT_LOG_MS) rmSync(old.path, { force: true });
}

/** 0 for a file another machine's pruning just removed. */
function mtimeOf(path: string): number {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** A registration: written when the monitor listens, removed when the machine ends. */
export class Registration {
  readonly token = randomBytes(24).toString('base64url');
  private readonly dir: string;

  constructor(readonly name: string) {
    this.dir = ensureRuntimeDir();
    if (liveEntry(this.dir, name)) throw new RuntimeDirError(`a machine called ${name} is already running (see starling ps)`);
    // Once the machine is booting, not before: it can take a few ms of lstats.
    const dir = this.dir;
    setImmediate(() => pruneEventLogs(dir));
  }

  get eventLog(): string {
    return defaultEventLog(this.dir, this.name);
  }

  publish(entry: MachineEntry): void {
    writeFileSync(tokenPath(this.dir, this.name), this.token + '\n', { mode: 0o600 });
    // Written under another name and renamed, so ps never reads half an entry.
    const temp = join(this.dir, `.${this.name}.${process.pid}.tmp`);
    writeFileSync(temp, JSON.stringify(entry) + '\n', { mode: 0o600 });
    renameSync(temp, entryPath(this.dir, this.name));
  }

  remove(): void {
    const entry = readEntry(this.dir, this.name);
    if (!entry || entry.pid === process.pid) forget(this.dir, this.name);
  }
}
