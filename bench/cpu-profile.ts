// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by function,
// inclusive time of the project's own functions (src/), and self time by area (src/, each package,
// node internals, GC). With the number of requests served, times are also given per request.
// Usage: node bench/cpu-profile.ts FILE.cpuprofile [--requests N] [--top 25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  where: string;
  area: string;
  ms: number;
}

export interface ProfileSummary {
  /** Milliseconds on the CPU (every sample but idle). */
  busyMs: number;
  idleMs: number;
  selfByFunction: ProfileRow[];
  /** Every function: time with everything it called, counted once per stack. */
  inclusive: ProfileRow[];
  /** Functions in src/ only. */
  inclusiveSrc: ProfileRow[];
  selfByArea: { area: string; ms: number }[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'V8/native (program)';
  if (url === '') return 'native';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? 'node_modules');
  }
  if (path.startsWith(`${ROOT}src/`)) return 'src (project)';
  if (path.startsWith(ROOT)) return `project ${path.slice(ROOT.length).split('/')[0]}`;
  return 'other';
}

function whereOf(frame: CallFrame): string {
  if (!frame.url) return '';
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const short = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  return `${short}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}\u0000${whereOf(frame)}`;
  const self = new Map<string, ProfileRow>();
  const inclusive = new Map<string, ProfileRow>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((sample, index) => {
    // timeDeltas[i] is the time before sample i; the time spent in sample i is the next delta.
    const us = profile.timeDeltas[index + 1] ?? 0;
    const node = byId.get(sample);
    if (!node) return;
    const frame = node.callFrame;
    const area = areaOf(frame.url, frame.functionName);
    if (area === 'idle') {
      idle += us;
      return;
    }
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = keyOf(frame);
    const row = self.get(key) ?? {
      name: frame.functionName || '(anonymous)',
      where: whereOf(frame),
      area,
      ms: 0,
    };
    row.ms += us;
    self.set(key, row);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)?.callFrame;
      if (!f || f.functionName === '(root)') continue;
      const k = keyOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      const r = inclusive.get(k) ?? {
        name: f.functionName || '(anonymous)',
        where: whereOf(f),
        area: areaOf(f.url, f.functionName),
        ms: 0,
      };
      r.ms += us;
      inclusive.set(k, r);
    }
  });
  const toMs = <T extends { ms: number }>(rows: Iterable<T>) =>
    [...rows].map((r) => ({ ...r, ms: r.ms / 1000 })).sort((a, b) => b.ms - a.ms);
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    selfByFunction: toMs(self.values()),
    inclusive: toMs(inclusive.values()),
    inclusiveSrc: toMs([...inclusive.values()].filter((r) => r.area === 'src (project)')),
    selfByArea: toMs([...areas].map(([area, ms]) => ({ area, ms }))),
  };
}

export function formatSummary(
  summary: ProfileSummary,
  options: { requests?: number; top?: number; title?: string } = {},
): string {
  const top = options.top ?? 25;
  const { busyMs } = summary;
  const perRequest = (ms: number) =>
    options.requests ? `${((ms * 1000) / options.requests).toFixed(2).padStart(8)} µs/req` : '';
  const pct = (ms: number) => `${((100 * ms) / busyMs).toFixed(1).padStart(5)}%`;
  const line = (ms: number, label: string) =>
    `  ${ms.toFixed(0).padStart(7)} ms ${pct(ms)} ${perRequest(ms)}  ${label}`;
  const out: string[] = [];
  if (options.title) out.push(`== ${options.title}`);
  out.push(
    `busy ${busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms${
      options.requests
        ? `, ${options.requests} requests: ${((busyMs * 1000) / options.requests).toFixed(1)} µs CPU/request`
        : ''
    }`,
  );
  out.push('self time by area:');
  for (const row of summary.selfByArea) out.push(line(row.ms, row.area));
  out.push(`self time, top ${top} functions:`);
  for (const row of summary.selfByFunction.slice(0, top))
    out.push(line(row.ms, `${row.name}  ${row.where}  [${row.area}]`));
  out.push(`inclusive time (with what they call), top ${top} functions:`);
  for (const row of summary.inclusive.slice(0, top))
    out.push(line(row.ms, `${row.name}  ${row.where}  [${row.area}]`));
  out.push(`src/ functions, inclusive time (with what they call), top ${top}:`);
  for (const row of summary.inclusiveSrc.slice(0, top)) out.push(line(row.ms, `${row.name}  ${row.where}`));
  out.push('src/ functions, self time:');
  for (const row of summary.selfByFunction.filter((r) => r.area === 'src (project)').slice(0, top))
    out.push(line(row.ms, `${row.name}  ${row.where}`));
  return out.join('\n');
}

/**
 * Where `other` spends more than `base` per request: self time by function and by area, in µs per
 * request, largest difference first (e.g. the gateway against the bare proxy).
 */
export function formatDiff(
  base: { summary: ProfileSummary; requests: number; name: string },
  other: { summary: ProfileSummary; requests: number; name: string },
  top = 30,
): string {
  const perReq = (ms: number, requests: number) => (ms * 1000) / requests;
  const diff = (baseRows: { key: string; ms: number; label: string }[], otherRows: typeof baseRows) => {
    const rows = new Map<string, { label: string; a: number; b: number }>();
    for (const r of baseRows) rows.set(r.key, { label: r.label, a: perReq(r.ms, base.requests), b: 0 });
    for (const r of otherRows) {
      const row = rows.get(r.key) ?? { label: r.label, a: 0, b: 0 };
      row.b = perReq(r.ms, other.requests);
      rows.set(r.key, row);
    }
    return [...rows.values()].sort((x, y) => y.b - y.a - (x.b - x.a));
  };
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  const head = `${'+µs/req'.padStart(8)} ${base.name.padStart(8)} ${other.name.padStart(8)}`;
  const out = [
    `== ${other.name} − ${base.name}, CPU per request: ${fmt(perReq(base.summary.busyMs, base.requests))} µs → ${fmt(
      perReq(other.summary.busyMs, other.requests),
    )} µs`,
    `by area:\n${head}`,
  ];
  const area = (s: ProfileSummary) => s.selfByArea.map((r) => ({ key: r.area, ms: r.ms, label: r.area }));
  for (const r of diff(area(base.summary), area(other.summary)))
    if (Math.abs(r.b - r.a) >= 0.05) out.push(`${fmt(r.b - r.a)} ${fmt(r.a)} ${fmt(r.b)}  ${r.label}`);
  out.push(`by function (self time), top ${top}:\n${head}`);
  const fn = (s: ProfileSummary) =>
    s.selfByFunction.map((r) => ({
      key: `${r.name} ${r.where}`,
      ms: r.ms,
      label: `${r.name}  ${r.where}  [${r.area}]`,
    }));
  for (const r of diff(fn(base.summary), fn(other.summary)).slice(0, top))
    out.push(`${fmt(r.b - r.a)} ${fmt(r.a)} ${fmt(r.b)}  ${r.label}`);
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { requests: { type: 'string' }, top: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    console.error('usage: node bench/cpu-profile.ts FILE.cpuprofile [--requests N] [--top 25]');
    process.exit(2);
  }
  console.log(
    formatSummary(summarizeProfile(file), {
      ...(values.requests ? { requests: Number(values.requests) } : {}),
      ...(values.top ? { top: Number(values.top) } : {}),
      title: file,
    }),
  );
}
