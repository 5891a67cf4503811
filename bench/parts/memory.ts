/**
 * Figure 5, memory: the service started as `npm start` starts it (node --import tsx server/main.ts,
 * embedded default, offline LLM), in its own process. RSS (VmRSS of that node process) once
 * it has fully started (engine and routers loaded) and been idle a moment; then, in a second process whose
 * KB_PATH is the 20,000-article KB, after the first playground triage has built the index.
 * Both start with the default intent model already cached in DATA_DIR, as on any start after the first.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, rssMb, spawnTs, stopChild, waitForHealthy } from '../lib/processes.ts';
import { progress } from '../lib/progress.ts';
import { runTempDir } from '../lib/temp.ts';

export interface MemoryResult {
  idleMb: number | null;
  kbMb: number | null;
  kbArticles: number;
  /** Time of the first triage with the large KB, which builds its index. */
  kbFirstTriageSeconds: number;
}

const IDLE_SETTLE_MS = 1_500;

/**
 * /healthz answers as soon as the store is open; the engine and feature routers load after (their
 * routes answer 503 until then). Idle means fully started: the playground page answers 200.
 */
async function waitForServices(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    await response?.arrayBuffer();
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service at ${url} did not finish starting within ${timeoutMs} ms`);
}

async function startMain(modelCacheFile: string, extra: Record<string, string>) {
  const dataDir = runTempDir('bench-memory');
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  copyFileSync(modelCacheFile, join(dataDir, 'models', 'default-intent-model.json'));
  const port = await freePort();
  // The same V8 flags as `npm start` (package.json): a smaller young generation keeps idle RSS down.
  const child = spawnTs(join(REPO_ROOT, 'server', 'main.ts'), {
    nodeFlags: ['--max-semi-space-size=8'],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...extra,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealthy(url, child, 120_000);
  await waitForServices(url, 120_000);
  return { child, url };
}

export async function measureIdleRss(modelCacheFile: string): Promise<number | null> {
  const { child } = await startMain(modelCacheFile, {});
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idle = child.pid === undefined ? null : rssMb(child.pid);
    progress(`memory: idle service RSS ${idle?.toFixed(1)} MB`);
    return idle;
  } finally {
    await stopChild(child);
  }
}

export async function measureKbRss(
  modelCacheFile: string,
  kbPath: string,
): Promise<{ mb: number | null; firstTriageSeconds: number }> {
  const { child, url } = await startMain(modelCacheFile, { KB_PATH: kbPath });
  try {
    const started = performance.now();
    const response = await fetch(`${url}/api/triage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Export', body: 'How do I export my timesheets to CSV?' }),
      signal: AbortSignal.timeout(300_000),
    });
    if (!response.ok)
      throw new Error(`playground triage answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
    await response.arrayBuffer();
    const firstTriageSeconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const mb = child.pid === undefined ? null : rssMb(child.pid);
    progress(
      `memory: service with the large KB, RSS ${mb?.toFixed(1)} MB (first triage ${firstTriageSeconds.toFixed(1)} s)`,
    );
    return { mb, firstTriageSeconds };
  } finally {
    await stopChild(child);
  }
}
