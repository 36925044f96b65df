// Draws docs/benchmarks.svg from the results the benches leave in test-results/bench/ (scripts/bench.sh): one
// group of horizontal bars per benchmark, tidewire against its baseline (or its target), with values, units and
// ratios. Hand-written SVG, no dependencies; the same inputs give the same bytes (the date is the newest input's
// modification day unless --date is given; the machine line is this machine's, which ran the benches).
//
//   node bench/chart.mjs [--dir test-results/bench] [--out docs/benchmarks.svg] [--date YYYY-MM-DD]
//
// Inputs (each optional; a missing one leaves its group as a note):
//   core.json               Google Benchmark JSON (tidewire_core_bench --benchmark_out)
//   throughput.log          bench/node/throughput.mjs output: its last line is a JSON summary (tidewire, minimal,
//                           envelope, batched, ratios: the three baselines (a), (b), (c))
//   browser_throughput.log  bench/browser/throughput.mjs output: last line JSON, the same shape
//   fanout.log              bench/server/fanout.mjs output: last line JSON
//   fanout_delay0.log       the same with --write-delay-us 0 (the server's default)
//   first_message.log       bench/node/first_message.mjs output: last line JSON
//   latency.json            bench/node/latency.mjs (or the last JSON line of latency.log)
//   size.json               { jsBytes, wasmBytes, totalBytes, budgetBytes, targetBytes?, stateBytes?, stateBudgetBytes?, reactBytes?, reactBudgetBytes? }
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string', default: resolve(root, 'test-results/bench') },
    out: { type: 'string', default: resolve(root, 'docs/benchmarks.svg') },
    date: { type: 'string' },
  },
});
const dir = resolve(opts.dir);
const used = []; // input files read (for the date)

// ---- inputs -----------------------------------------------------------------------------------------------------

function readJson(name) {
  const path = resolve(dir, name);
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    used.push(path);
    return v;
  } catch {
    return null;
  }
}

// The last line of a log that parses as a JSON object (the benches print their summary last).
function lastJsonLine(name) {
  const path = resolve(dir, name);
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const l = lines[i].trim();
    if (!l.startsWith('{')) continue;
    try {
      const v = JSON.parse(l);
      used.push(path);
      return v;
    } catch {
      // not the summary
    }
  }
  return null;
}

const num = (x) => typeof x === 'number' && Number.isFinite(x);

// ---- formatting -------------------------------------------------------------------------------------------------

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
function group3(n) {
  const s = String(Math.round(Math.abs(n)));
  let out = '';
  for (let i = 0; i < s.length; i += 1) out += (i > 0 && (s.length - i) % 3 === 0 ? ',' : '') + s[i];
  return (n < 0 ? '-' : '') + out;
}
// Significant digits that suit the magnitude: 331,805 · 49.6 · 3.50 · 0.320
function fmt(x) {
  if (!num(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1000) return group3(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}
const ratio = (x) => (num(x) ? `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×` : 'n/a');
const kb = (bytes) => bytes / 1000;

// ---- groups -----------------------------------------------------------------------------------------------------
// A group: { title, unit, better: 'higher'|'lower', bars: [{ label, value, kind, note? }], target?: {value, label},
//            notes: [] } or { title, missing: 'why' }. kind: 'tidewire' | 'baseline' | 'ceiling' | 'part'.

const groups = [];
const missing = (title, what) => groups.push({ title, missing: what });
const vsBaseline = (t, b) => (num(t) && num(b) && b > 0 ? `${ratio(t / b)} the baseline` : undefined);
const rounds = (xs) => (Array.isArray(xs) && xs.length > 0 && xs.every(num) ? xs.map((x) => x.toFixed(2)).join(', ') : null);

// The fair client throughput benches (prebuilt frames): tidewire against three raw clients in the same run.
const BASELINES = [
  ['minimal', '(a) 1 msg/frame, minimal envelope'],
  ['envelope', '(b) 1 msg/frame, tidewire envelope'],
  ['batched', "(c) tidewire's batches, split in JS"],
];
// "1.46× (a), 1.27× (b), 1.72× (c)": the medians of tidewire's per-round ratios to each baseline.
const ratioNote = (res, key) =>
  BASELINES.filter(([m]) => num(res.ratios?.[m]?.[key]))
    .map(([m, label]) => `${ratio(res.ratios[m][key])} ${label.slice(0, 3)}`)
    .join(', ') || undefined;
const perRound = (res, key) =>
  BASELINES.filter(([m]) => rounds(res.ratios?.[m]?.[key]))
    .map(([m, label]) => `${label.slice(0, 3)} ${rounds(res.ratios[m][key])}`)
    .join('; ');
function clientGroups(res, where, raw, cpuWhat, targets) {
  const bars = (key, ratioKey) => [
    { label: 'tidewire (batched binary frames)', value: res.tidewire[key], kind: 'tidewire', note: ratioNote(res, ratioKey) },
    ...BASELINES.filter(([m]) => res[m]).map(([m, label]) => ({ label: `${raw} ${label}`, value: res[m][key], kind: 'baseline' })),
    ...(res.ceiling ? [{ label: `${raw}, no-op handler (ceiling)`, value: res.ceiling[key], kind: 'ceiling' }] : []),
  ];
  const shape = `${group3(res.messages ?? 0)} messages, prebuilt frames, tidewire and (c) ${res.batch ?? '?'} per frame; load average ${
    Array.isArray(res.loadAvg1m) ? res.loadAvg1m.map((x) => x.toFixed(1)).join(' → ') : '?'}`;
  groups.push({
    title: `${where} client throughput, one subscriber`,
    unit: 'messages/s',
    better: 'higher',
    bars: bars('msgPerSec', 'throughputMedian'),
    ...(targets.throughput && num(res.minimal?.msgPerSec) ? { target: { value: targets.throughput * res.minimal.msgPerSec, label: `target ≥ ${targets.throughput}× (a)` } } : {}),
    notes: [`${shape}; medians of ${res.rounds ?? '?'} alternating rounds; tidewire's per-round ratios: ${perRound(res, 'throughput')}`],
  });
  groups.push({
    title: `${where} client ${cpuWhat} per message`,
    unit: 'µs',
    better: 'lower',
    bars: bars('cpuUsPerMsg', 'cpuMedian'),
    ...(targets.cpu && num(res.batched?.cpuUsPerMsg) ? { target: { value: targets.cpu * res.batched.cpuUsPerMsg, label: `target ≤ ${targets.cpu}× (c)` } } : {}),
    notes: [`${targets.note}; tidewire's per-round ratios: ${perRound(res, 'cpu')}`],
  });
}

const tp = lastJsonLine('throughput.log');
if (tp?.tidewire && tp?.minimal) {
  clientGroups(tp, 'Node', 'raw ws', 'CPU', {
    throughput: 1.3,
    cpu: 0.9,
    note: 'process.cpuUsage (user + system) from the first to the last message, bench/node/throughput.mjs; targets ≤ 0.75× (a) and ≤ 0.9× (c)',
  });
} else {
  missing('Node client throughput and CPU per message', 'throughput.log (bench/node/throughput.mjs) not found or in the old format');
}

const br = lastJsonLine('browser_throughput.log');
if (br?.tidewire && br?.minimal) {
  clientGroups(br, 'Headless Chromium', 'WebSocket', 'main-thread CPU', {
    cpu: 0.9,
    note: 'CDP Performance.getMetrics ThreadTime of the page from the start of the stream to the last message, bench/browser/throughput.mjs (bare CDP pipe); target ≤ 0.9× (c)',
  });
} else {
  missing('Headless Chromium client throughput', 'browser_throughput.log (bench/browser/throughput.mjs) not found or in the old format');
}

// One group per fan-out run: the issue's shape (write delay 1 ms) and the server's default (0, fanout_delay0.log).
function fanoutGroup(fo, setting, target) {
  const r = rounds(fo.ratios);
  const perFrame = num(fo.tidewireMessagesPerFrame) && num(fo.baselineMessagesPerFrame)
    ? `; messages per frame ${fmt(fo.tidewireMessagesPerFrame)} / ${fmt(fo.baselineMessagesPerFrame)}` : '';
  groups.push({
    title: `Server CPU per delivery, ${fo.subscribers ?? '?'} subscribers on one channel, ${setting}`,
    unit: 'µs',
    better: 'lower',
    bars: [
      { label: 'tidewire-server (Beast, 1 I/O thread)', value: fo.tidewireCpuUsPerDelivery, kind: 'tidewire', note: vsBaseline(fo.tidewireCpuUsPerDelivery, fo.baselineCpuUsPerDelivery) },
      { label: 'Node ws broadcast server (baseline)', value: fo.baselineCpuUsPerDelivery, kind: 'baseline' },
    ],
    ...(target ? { target: { value: 0.5, label: 'target ≤ 0.5' } } : {}),
    notes: [`bench/server/fanout.mjs, ${fo.messages ? group3(fo.messages) + ' messages, ' : ''}write delay ${fo.writeDelayUs ?? '?'} µs, medians${r ? `; per-round ratios ${r}` : ''}${perFrame}`],
  });
}

const fo = lastJsonLine('fanout.log');
if (num(fo?.tidewireCpuUsPerDelivery) && num(fo?.baselineCpuUsPerDelivery)) {
  fanoutGroup(fo, `write delay ${fo.writeDelayUs ?? '?'} µs`, true);
  if (num(fo.idle?.bytesPerIdleConnection)) {
    groups.push({
      title: 'Server memory per idle connection',
      unit: 'KB',
      better: 'lower',
      bars: [{ label: 'tidewire-server (RSS growth)', value: kb(fo.idle.bytesPerIdleConnection), kind: 'tidewire' }],
      target: { value: 10, label: 'target ≤ 10 KB' },
      notes: ['bench/server/fanout.mjs --idle: RSS growth over idle authenticated connections'],
    });
  }
} else {
  missing('Server CPU per delivery', 'fanout.log (bench/server/fanout.mjs) not found');
}
const fo0 = lastJsonLine('fanout_delay0.log');
if (num(fo0?.tidewireCpuUsPerDelivery) && num(fo0?.baselineCpuUsPerDelivery)) {
  fanoutGroup(fo0, 'default settings (write delay 0)', false);
} else {
  missing('Server CPU per delivery with the default write delay 0', 'fanout_delay0.log (bench/server/fanout.mjs --write-delay-us 0) not found');
}

let lat = readJson('latency.json');
if (!lat?.tidewire) lat = lastJsonLine('latency.log');
if (lat?.tidewire) {
  const t = lat.tidewire;
  const b = lat.baseline;
  const flags = [];
  for (const [name, s] of [['tidewire', t], ['baseline', b]]) {
    if (!s) continue;
    if (s.complete === false) flags.push(`${name}: messages missing or duplicated`);
    if (s.saturated) flags.push(`${name}: machine CPU-saturated (latency is CPU queueing)`);
    if (s.growing) flags.push(`${name}: not keeping up (latency grew during the run)`);
  }
  const nRounds = lat.roundCount ?? lat.rounds?.tidewire?.length;
  const shape = lat.sinks > 0
    ? `${lat.subscribers} subscribers (${lat.clients} timed clients + ${lat.sinks} sinks)`
    : `${lat.subscribers} subscribers`;
  groups.push({
    title: `Publish → deliver latency, ${group3(lat.rate ?? 0)} messages/s, ${shape}`,
    unit: 'ms',
    better: 'lower',
    bars: [
      { label: 'tidewire p50', value: t.p50Ms, kind: 'tidewire', note: b ? vsBaseline(t.p50Ms, b.p50Ms) : undefined },
      ...(b ? [{ label: 'Node ws + raw ws clients p50 (baseline)', value: b.p50Ms, kind: 'baseline' }] : []),
      { label: 'tidewire p99', value: t.p99Ms, kind: 'tidewire', note: b ? vsBaseline(t.p99Ms, b.p99Ms) : undefined },
      ...(b ? [{ label: 'Node ws + raw ws clients p99 (baseline)', value: b.p99Ms, kind: 'baseline' }] : []),
    ],
    notes: [
      `bench/node/latency.mjs, ${lat.seconds ?? '?'} s per round after a ${lat.warmupSeconds ?? '?'} s warm-up, write delay ${lat.writeDelayUs ?? '?'} µs, ` +
        `median of ${nRounds ?? '?'} round${nRounds === 1 ? '' : 's'}`,
      ...flags.map((f) => `⚠ ${f}`),
    ],
  });
} else {
  missing('Publish → deliver latency', 'latency.json / latency.log (bench/node/latency.mjs) not found');
}

const fm = lastJsonLine('first_message.log');
if (num(fm?.warmMsMedian) && num(fm?.coldMsMedian)) {
  groups.push({
    title: 'First message: createClient → first handler call (Node, loopback)',
    unit: 'ms',
    better: 'lower',
    bars: [
      { label: 'warm (module loaded)', value: fm.warmMsMedian, kind: 'tidewire', note: `target ≤ 3.5 ms${fm.warmMsMedian <= 3.5 ? ': met' : ': missed'}` },
      { label: 'cold (fresh process, wasm compiled)', value: fm.coldMsMedian, kind: 'tidewire', note: `target ≤ 30 ms${fm.coldMsMedian <= 30 ? ': met' : ': missed'}` },
      ...(num(fm.coldRawWsMsMedian)
        ? [{ label: 'cold, raw ws client (reference)', value: fm.coldRawWsMsMedian, kind: 'baseline' }]
        : []),
    ],
    notes: [
      `bench/node/first_message.mjs, medians of ${Array.isArray(fm.warm) ? fm.warm.length : '?'} samples; ` +
        (num(fm.coldRawWsMsMedian) ? 'the raw ws client is a reference, not a target' : 'no baseline (targets from the performance issue)'),
    ],
  });
} else {
  missing('First-message latency', 'first_message.log (bench/node/first_message.mjs) not found');
}

const size = readJson('size.json');
if (num(size?.totalBytes) && num(size?.budgetBytes)) {
  groups.push({
    title: 'Bundle size, plain API (gzip -9)',
    unit: 'KB',
    better: 'lower',
    bars: [
      { label: 'JS (API + glue, minified)', value: kb(size.jsBytes), kind: 'part' },
      { label: 'wasm', value: kb(size.wasmBytes), kind: 'part' },
      {
        label: 'total',
        value: kb(size.totalBytes),
        kind: 'tidewire',
        note: `${ratio(size.totalBytes / size.budgetBytes)} the budget` +
          (num(size.targetBytes) && size.targetBytes !== size.budgetBytes ? `, ${ratio(size.totalBytes / size.targetBytes)} the ${fmt(kb(size.targetBytes))} KB target` : ''),
      },
      ...(num(size.stateBytes)
        ? [{
            label: 'state wasm (on first use of presence/sync/chat)',
            value: kb(size.stateBytes),
            kind: 'part',
            note: num(size.stateBudgetBytes) ? `budget ${fmt(kb(size.stateBudgetBytes))} KB` : undefined,
          }]
        : []),
      ...(num(size.reactBytes)
        ? [{
            label: 'React bindings (extra)',
            value: kb(size.reactBytes),
            kind: 'part',
            note: num(size.reactBudgetBytes) ? `budget ${fmt(kb(size.reactBudgetBytes))} KB` : undefined,
          }]
        : []),
    ],
    target: { value: kb(size.budgetBytes), label: `budget ${fmt(kb(size.budgetBytes))} KB` },
    notes: [`size.json; 1 KB = 1,000 bytes${num(size.targetBytes) && size.targetBytes !== size.budgetBytes ? `; the performance issue's target: ${fmt(kb(size.targetBytes))} KB` : ''}`],
  });
} else {
  missing('Bundle size', 'size.json not found');
}

const core = readJson('core.json');
if (Array.isArray(core?.benchmarks) && core.benchmarks.length > 0) {
  // One bar per benchmark: the median aggregate when repeated, else the single run. CPU ns per item where the
  // benchmark counts items (OutboxQueueAndFlush runs 100 messages per iteration, PresenceDiff a join and a leave),
  // else per iteration: one message, one delay, one encode.
  const toNs = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };
  const perItemNs = (b) => (num(b.items_per_second) && b.items_per_second > 0 ? 1e9 / b.items_per_second : b.cpu_time * (toNs[b.time_unit ?? 'ns'] ?? 1));
  const byName = new Map();
  for (const b of core.benchmarks) {
    const name = b.run_name ?? b.name;
    if (b.run_type === 'aggregate' && b.aggregate_name !== 'median') continue;
    if (b.run_type === 'aggregate' || !byName.has(name)) byName.set(name, perItemNs(b));
  }
  groups.push({
    title: 'Client core micro-benchmarks (native, Google Benchmark)',
    unit: 'ns CPU per message or operation',
    better: 'lower',
    bars: [...byName].map(([name, ns]) => ({ label: name.replace(/^BM_/, ''), value: ns, kind: 'tidewire' })),
    notes: ['build/native/bench/tidewire_core_bench; per item where the benchmark counts items (a message, a presence diff)'],
  });
} else {
  missing('Client core micro-benchmarks', 'core.json (tidewire_core_bench --benchmark_out) not found');
}

// ---- drawing ----------------------------------------------------------------------------------------------------

const W = 960;
const PAD = 24;
const LABEL_W = 300;
const BAR_X = PAD + LABEL_W;
const BAR_W = 400; // the longest bar (or the target line) of a group
const ROW = 22;
const CHAR_W = 6.8; // average width of a 12 px character, for layout only
const NOTE_CHAR_W = 5.9; // 11 px (measured: 5.4 let long notes overflow)
const wrap = (s, width) => {
  const lines = [];
  let line = '';
  for (const word of s.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
};
const COLORS = { tidewire: '#0f766e', baseline: '#9ca3af', ceiling: '#d1d5db', part: '#5eead4' };
const out = [];
let y = PAD;

const date =
  opts.date ??
  (used.length > 0 ? new Date(Math.max(...used.map((p) => statSync(p).mtimeMs))).toISOString().slice(0, 10) : 'no results');
const cpuList = cpus();
const machine = `${cpuList[0]?.model?.trim() ?? 'unknown CPU'}, ${cpuList.length} cores`;

const text = (x, yy, s, attrs = '') => out.push(`<text x="${x}" y="${yy}"${attrs ? ' ' + attrs : ''}>${esc(s)}</text>`);
text(PAD, y + 20, 'tidewire benchmarks', 'class="title"');
y += 34;
const from = dir.startsWith(root + '/') ? relative(root, dir) : dir;
text(PAD, y + 12, `${date} · ${machine} · results in ${from} (scripts/bench.sh); commands and caveats: docs/BENCHMARKS.md`, 'class="sub"');
y += 20;
// Legend
let lx = PAD;
for (const [kind, label] of [['tidewire', 'tidewire'], ['baseline', 'baseline'], ['ceiling', 'ceiling (no work)'], ['part', 'part of a total']]) {
  out.push(`<rect x="${lx}" y="${y + 2}" width="12" height="12" fill="${COLORS[kind]}"/>`);
  text(lx + 17, y + 12, label, 'class="sub"');
  lx += 30 + label.length * 6.5;
}
out.push(`<line x1="${lx}" y1="${y + 1}" x2="${lx}" y2="${y + 15}" class="target"/>`);
text(lx + 6, y + 12, 'target / budget', 'class="sub"');
y += 26;

for (const g of groups) {
  out.push(`<line x1="${PAD}" y1="${y}" x2="${W - PAD}" y2="${y}" class="rule"/>`);
  y += 6;
  if (g.missing) {
    text(PAD, y + 15, g.title, 'class="group"');
    text(PAD + 8, y + 33, `skipped: ${g.missing}`, 'class="note"');
    y += 44;
    continue;
  }
  text(PAD, y + 15, `${g.title} (${g.unit}, ${g.better} is better)`, 'class="group"');
  y += 24;
  const values = g.bars.map((b) => b.value).filter(num);
  const max = Math.max(...values, g.target?.value ?? 0) || 1;
  const scale = BAR_W / max;
  const top = y;
  const tx = g.target && num(g.target.value) ? BAR_X + g.target.value * scale : null;
  for (const b of g.bars) {
    text(BAR_X - 8, y + 15, b.label, 'class="label" text-anchor="end"');
    if (num(b.value)) {
      const w = Math.max(1, b.value * scale);
      out.push(`<rect x="${BAR_X}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLORS[b.kind]}"/>`);
      const label = `${fmt(b.value)}${b.note ? ` · ${b.note}` : ''}`;
      let vx = BAR_X + w + 6;
      // Keep the value clear of the target line: after it when the text would cross it.
      // (Unless it would then run off the chart: crossing the line is the lesser evil.)
      if (tx !== null && BAR_X + w < tx && vx + label.length * CHAR_W > tx - 3 && tx + 6 + label.length * CHAR_W <= W - PAD) vx = tx + 6;
      if (vx + label.length * CHAR_W > W - PAD && label.length * CHAR_W + 12 < w) {
        // No room on the right: inside the bar's end.
        text((BAR_X + w - 6).toFixed(1), y + 15, label, `class="value ${b.kind === 'tidewire' ? 'inside' : ''}" text-anchor="end"`);
      } else {
        text(vx.toFixed(1), y + 15, label, `class="${b.kind === 'tidewire' ? 'value' : 'value dim'}"`);
      }
    } else {
      text(BAR_X + 6, y + 15, 'n/a', 'class="value dim"');
    }
    y += ROW;
  }
  if (tx !== null) {
    out.push(`<line x1="${tx.toFixed(1)}" y1="${top}" x2="${tx.toFixed(1)}" y2="${y}" class="target"/>`);
    text((tx + 4).toFixed(1), top + 2, g.target.label, 'class="tlabel"');
  }
  for (const n of g.notes ?? []) {
    for (const line of wrap(n, Math.floor((W - PAD - BAR_X) / NOTE_CHAR_W))) {
      text(BAR_X, y + 12, line, `class="${n.startsWith('⚠') ? 'warn' : 'note'}"`);
      y += 15;
    }
    y += 1;
  }
  y += 10;
}
y += PAD - 10;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">
<style>
.title { font-size: 20px; font-weight: 600; fill: #111827; }
.sub { font-size: 11px; fill: #4b5563; }
.group { font-size: 14px; font-weight: 600; fill: #111827; }
.label { font-size: 12px; fill: #1f2937; }
.value { font-size: 12px; fill: #111827; }
.dim { fill: #4b5563; }
.inside { fill: #ffffff; }
.note { font-size: 11px; fill: #6b7280; }
.warn { font-size: 11px; fill: #b91c1c; }
.tlabel { font-size: 10px; fill: #b91c1c; }
.target { stroke: #b91c1c; stroke-width: 1.5; stroke-dasharray: 4 3; }
.rule { stroke: #e5e7eb; stroke-width: 1; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${out.join('\n')}
</svg>
`;
mkdirSync(dirname(resolve(opts.out)), { recursive: true });
writeFileSync(resolve(opts.out), svg);
const drawn = groups.filter((g) => !g.missing).length;
console.log(`wrote ${relative(process.cwd(), resolve(opts.out)) || opts.out}: ${drawn} group(s) drawn, ${groups.length - drawn} skipped (no input in ${dir})`);
