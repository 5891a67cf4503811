/**
 * Child processes of the benchmark: every one is registered here and stopped at the end, on an
 * error, on Ctrl-C, and (with SIGKILL) when the bench process exits for any other reason.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const children = new Set<ChildProcess>();
const spawnedPids: number[] = [];
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: stopping child processes\n`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Inherit the child's stderr (its own logs) instead of dropping it. */
  showStderr?: boolean;
}

/** Starts `node --import tsx <script>` from the repository root with an IPC channel. */
export function spawnTs(script: string, options: SpawnOptions = {}): ChildProcess {
  installHandlers();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'ignore', options.showStderr ? 'inherit' : 'pipe', 'ipc'],
  });
  // Keep the last bit of stderr so a failing child can be explained.
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  });
  (child as ChildProcess & { stderrTail?: () => string }).stderrTail = () => tail;
  children.add(child);
  if (child.pid !== undefined) spawnedPids.push(child.pid);
  child.once('exit', () => children.delete(child));
  return child;
}

export function stderrTail(child: ChildProcess): string {
  return (child as ChildProcess & { stderrTail?: () => string }).stderrTail?.() ?? '';
}

/** Resolves with the first IPC message the predicate accepts; rejects on exit or timeout. */
export function waitForMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => message is T,
  timeoutMs: number,
  label: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${label}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (accept(message)) finish(undefined, message);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`${label}: exited (${signal ?? code}) ${stderrTail(child).slice(-1_500)}`));
    function finish(error?: Error, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends a request over IPC and waits for the reply with the same id. */
let requestCounter = 0;
export async function askChild<T>(
  child: ChildProcess,
  request: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<T> {
  const id = ++requestCounter;
  const reply = waitForMessage(
    child,
    (message): message is { id: number; result?: T; error?: string } =>
      typeof message === 'object' && message !== null && (message as { id?: unknown }).id === id,
    timeoutMs,
    `child request ${String(request.type)}`,
  );
  child.send({ ...request, id });
  const answer = await reply;
  if (answer.error !== undefined) throw new Error(answer.error);
  return answer.result as T;
}

/** SIGTERM, then SIGKILL after the grace period. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAllChildren(): Promise<void> {
  await Promise.allSettled([...children].map((child) => stopChild(child)));
}

/** Every child process id this run started (the smoke test checks they are gone afterwards). */
export function allSpawnedPids(): number[] {
  return [...spawnedPids];
}

export function runningChildren(): number {
  return children.size;
}

/** Resident set size of a process in MB from /proc (Linux); null elsewhere. */
export function rssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited early: ${stderrTail(child).slice(-1_500)}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service at ${url} not healthy within ${timeoutMs} ms`);
}
