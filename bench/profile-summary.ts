import { readFileSync } from 'node:fs';

/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [requests] [top]`: where a --cpu-prof
 * profile's time went, as self time per function and per package or source file, and inclusive
 * time of Tollgate's own functions; in µs per request when the request count is given.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, requestsArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [requests] [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const requests = Number(requestsArg ?? 0);
const top = Number(topArg ?? 40);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

function where(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 13).split('/')[0] ?? url;
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 6);
  return url || '(native)';
}
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)');
const idleUs = idle.reduce((a, [, us]) => a + us, 0);
const busy = total - idleUs;
const scale = (us: number) =>
  requests > 0 ? `${(us / requests).toFixed(2)} µs/req` : `${(us / 1000).toFixed(0)} ms`;

function table(title: string, map: Map<string, number>) {
  process.stdout.write(`\n${title}\n`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${scale(us).padStart(16)} ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}\n`,
    );
  }
}

const selfByFunction = new Map<string, number>();
const selfByPlace = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const name = label(node);
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + us);
  const place = node.callFrame.url ? where(node.callFrame.url) : node.callFrame.functionName;
  selfByPlace.set(place, (selfByPlace.get(place) ?? 0) + us);
  // Inclusive time: each function on the sample's stack, counted once however often it recurs.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!;
    const key = label(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

process.stdout.write(
  `busy ${scale(busy)} (idle ${((100 * idleUs) / total).toFixed(0)}% of ${(total / 1e6).toFixed(1)} s)\n`,
);
table('self time by package or file', selfByPlace);
table('self time by function', selfByFunction);
table(
  'inclusive time, own code',
  new Map([...inclusive].filter(([name]) => / (src|bench)\//.test(name) || name.includes('(garbage'))),
);
table('inclusive time, everything', inclusive);
