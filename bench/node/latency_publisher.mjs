// The publisher process of the latency benchmark, forked by bench/node/latency.mjs and driven over IPC. It
// publishes `total` messages on `bench` at a steady `rate`: a 1 ms timer loop sends, at each tick, every message
// due so far (never one timer per message). Each payload carries its send time t (performance.timeOrigin +
// performance.now(), taken right before the send call) and seq. tidewire: a tidewire client (subscribed to the
// channel, as the protocol requires of publishers) publishing with channel.send(); baseline: a raw `ws` socket
// sending the same channel_message JSON with a ref (acked like tidewire's).
//
// IPC: ← {type:'config', mode, url, token, total, warm, rate}
//      → {type:'ready', clockOffsetMs}
//      ← {type:'go', startAt}
//      → {type:'done', sent, acked, ackErrors, measuredRate, lagP99Ms, lagMaxMs, ackP50Ms, ackP99Ms}
import { clock, wallClockOffsetMs } from './latency_clock.mjs';

const text = 'the quick brown fox jumps over the lazy dog 0123456789'; // payload ≈ 100 bytes with seq and t
let cfg;
let publish; // (seq, t) => void
let acked = 0;
let sendTimes; // Float64Array: seq -> send time
let ackLat; // Float64Array: seq -> ack time - send time (NaN: no ack)
const onAck = (seq) => {
  acked += 1;
  ackLat[seq] = clock() - sendTimes[seq];
};
const ackErrors = {};

async function openTidewire() {
  const { createClient } = await import('../../web/dist/index.js');
  const client = createClient({ url: cfg.url, token: cfg.token, outboxMaxMessages: 1_000_000, outboxMaxBytes: 1 << 30, ackTimeoutMs: 60_000 });
  const ch = client.channel('bench');
  await ch.whenSubscribed();
  const fail = (e) => (ackErrors[e.code ?? String(e)] = (ackErrors[e.code ?? String(e)] ?? 0) + 1);
  publish = (seq, t) => ch.send('tick', { seq, t, text }).then(() => onAck(seq), fail);
  return () => client.close();
}

async function openBaseline() {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(cfg.url, ['jwt', cfg.token], { perMessageDeflate: false });
  let subscribed;
  const whenSubscribed = new Promise((r) => (subscribed = r));
  ws.on('message', (data) => {
    // Its own copies of the broadcast are not looked at; acks (their refs) and `subscribed` are.
    const s = String(data);
    if (s.includes('"subscribed"')) subscribed();
    for (let at = s.indexOf('"type":"ack"'); at !== -1; at = s.indexOf('"type":"ack"', at + 1)) {
      const m = /"ref":"p(\d+)"/.exec(s.slice(at, s.indexOf('\n', at) >>> 0));
      if (m) onAck(Number(m[1]));
    }
  });
  ws.on('error', () => {});
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
  await whenSubscribed;
  publish = (seq, t) =>
    ws.send(`{"type":"channel_message","channel":"bench","event":"tick","ref":"p${seq}","payload":${JSON.stringify({ seq, t, text })}}`);
  return () => ws.terminate();
}

function run(startAt) {
  const lags = new Float64Array(cfg.total); // how late each send was against its schedule
  const period = 1000 / cfg.rate;
  let seq = 0;
  let firstMeasured = 0;
  let last = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = clock();
      const due = Math.min(cfg.total, Math.floor((now - startAt) / period) + 1);
      while (seq < due) {
        const t = clock();
        lags[seq] = t - (startAt + seq * period);
        sendTimes[seq] = t;
        if (seq === cfg.warm) firstMeasured = t;
        publish(seq, t);
        last = t;
        seq += 1;
      }
      if (seq < cfg.total) setTimeout(tick, 1);
      else resolve({ lags, firstMeasured, last });
    };
    setTimeout(tick, Math.max(0, startAt - clock()));
  });
}

process.on('message', async (msg) => {
  if (msg.type === 'config') {
    cfg = msg;
    sendTimes = new Float64Array(cfg.total);
    ackLat = new Float64Array(cfg.total).fill(NaN);
    cfg.close = await (cfg.mode === 'tidewire' ? openTidewire() : openBaseline());
    process.send({ type: 'ready', clockOffsetMs: wallClockOffsetMs() });
  } else if (msg.type === 'go') {
    const { lags, firstMeasured, last } = await run(msg.startAt);
    const deadline = clock() + 10_000;
    while (acked + Object.values(ackErrors).reduce((a, b) => a + b, 0) < cfg.total && clock() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const measured = Array.from(lags.subarray(cfg.warm)).sort((a, b) => a - b);
    const acks = Array.from(ackLat.subarray(cfg.warm)).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    process.send({
      type: 'done',
      sent: cfg.total,
      acked,
      ackErrors,
      measuredRate: (cfg.total - cfg.warm - 1) / ((last - firstMeasured) / 1000),
      lagP50Ms: measured[Math.floor(measured.length * 0.5)],
      lagP99Ms: measured[Math.floor(measured.length * 0.99)],
      lagMaxMs: measured[measured.length - 1],
      ackP50Ms: acks[Math.floor(acks.length * 0.5)] ?? null,
      ackP99Ms: acks[Math.floor(acks.length * 0.99)] ?? null,
    });
  } else if (msg.type === 'finish') {
    cfg.close?.();
    setTimeout(() => process.exit(0), 200).unref();
  }
});
