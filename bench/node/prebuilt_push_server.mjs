// The push server of the fair client throughput benchmarks (bench/node/throughput.mjs, bench/browser/throughput.mjs):
// every WebSocket frame of the run is prepared before the timed part, and the whole stream is then handed to the
// socket in one write, so the kernel sends it as fast as the client reads it and the server is never the
// bottleneck (no JS runs per message or per frame while the client is timed).
//
// It speaks just enough of the tidewire protocol: the HTTP upgrade (subprotocol `jwt` when offered), auth_success,
// and, on the client's first frame (its subscribe), `subscribed` followed by the stream. The frames:
//   --envelope tidewire  tidewire's channel_message envelope (type, channel, event, offset, epoch, ts, from, payload)
//   --envelope minimal   a plain app protocol's {channel, event, payload}
//   --batch K            K messages per frame joined with '\n' (the protocol's batching); 1 = one message per frame
// A client URL with `binary=1` gets the batches as binary frames, 0x00 then the same bytes (PROTOCOL.md, binary
// frames); with `compact=1` too, protocol v2 compact batches (0x02, 'm' records) unless --v1. The payload is the same for every envelope: {seq, ts, text}, about 100 bytes.
//   node prebuilt_push_server.mjs --messages N [--batch K] [--envelope tidewire|minimal] [--wait-go]
// With --wait-go the stream waits for a line "go" on stdin after the subscribe (the browser bench measures the page's
// main-thread CPU from that moment); "subscribed" is printed on stdout when the client is ready.
// Prints "listening on http://127.0.0.1:<port>" once it accepts connections, and one JSON line of frame statistics.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1' },
    envelope: { type: 'string', default: 'tidewire' },
    'wait-go': { type: 'boolean', default: false },
    v1: { type: 'boolean', default: false }, // answer a client asking for compact=1 as a v1 server would
  },
});
const N = Number(values.messages);
const BATCH = Number(values.batch);
if (!['tidewire', 'minimal'].includes(values.envelope)) throw new Error(`--envelope tidewire|minimal, not ${values.envelope}`);
const text = 'the quick brown fox jumps over the lazy dog 0123456789 abcdefghij';
const ts = 1764806400000; // fixed, so that every server of a run sends byte-identical payloads

function messageLine(envelope, seq) {
  const payload = `{"seq":${seq},"ts":${ts + seq},"text":"${text}"}`;
  return envelope === 'minimal'
    ? `{"channel":"bench","event":"tick","payload":${payload}}`
    : `{"type":"channel_message","channel":"bench","event":"tick","offset":${seq + 1},"epoch":"E","ts":${ts + seq},"from":"server","payload":${payload}}`;
}

// One unmasked server frame (FIN set): opcode 1 text, 2 binary.
function frameHeader(opcode, length) {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 65536) return Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}
const textFrame = (s) => {
  const body = Buffer.from(s);
  return Buffer.concat([frameHeader(1, body.length), body]);
};

// Protocol v2 (PROTOCOL.md 13.1): an 'm' record of the same message (its strings are ASCII: UTF-16 units = bytes).
const a7 = (v) => {
  const out = [];
  for (; v >= 0x40; v = Math.floor(v / 64)) out.push(0x40 | (v % 64));
  out.push(v);
  return out;
};
const str = (s) => [...a7(s.length), ...Buffer.from(s)];
function compactRecord(seq) {
  const payload = Buffer.from(`{"seq":${seq},"ts":${ts + seq},"text":"${text}"}`);
  const from = 'server';
  const head = [...str('bench'), ...str('tick'), ...str('E'), ...a7(seq + 1), ...a7(ts + seq), ...a7(from.length), ...a7(from.length), ...a7(payload.length)];
  const body = Buffer.concat([Buffer.from(head), Buffer.from(from), payload]);
  return Buffer.concat([Buffer.from([0x6d, ...a7(body.length), ...a7(body.length)]), body]);
}

// The whole stream for one connection, as one buffer: N messages in frames of BATCH.
function buildStream(binary, compact) {
  const parts = [];
  let bytes = 0;
  let frames = 0;
  for (let seq = 0; seq < N; ) {
    const lines = [];
    for (let i = 0; i < BATCH && seq < N; i += 1, seq += 1) lines.push(compact ? compactRecord(seq) : messageLine(values.envelope, seq));
    const body = compact ? Buffer.concat(lines) : Buffer.from(lines.join('\n'));
    const size = body.length + (binary ? 1 : 0);
    parts.push(frameHeader(binary ? 2 : 1, size));
    if (binary) parts.push(Buffer.from([compact ? 2 : 0]));
    parts.push(body);
    bytes += size;
    frames += 1;
  }
  return { stream: Buffer.concat(parts), frames, bytes };
}

let go = Promise.resolve();
if (values['wait-go']) {
  go = new Promise((resolveGo) => {
    createInterface({ input: process.stdin }).on('line', (l) => {
      if (l.trim() === 'go') resolveGo();
    });
  });
}

const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket) => {
  socket.on('error', () => {}); // the client process exits when it has counted everything
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') return socket.destroy();
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const binary = /[?&]binary=1(&|$)/.test(req.url ?? '');
  const compact = binary && values.envelope === 'tidewire' && !values.v1 && /[?&]compact=1(&|$)/.test(req.url ?? '');
  const { stream, frames, bytes } = buildStream(binary, compact);
  process.stdout.write(
    JSON.stringify({ envelope: values.envelope, batch: BATCH, binary, compact, frames, messageBytes: Buffer.byteLength(messageLine(values.envelope, 100000)), streamBytes: bytes }) + '\n',
  );
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.setNoDelay(true);
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      (offered.includes('jwt') ? 'Sec-WebSocket-Protocol: jwt\r\n' : '') +
      '\r\n',
  );
  socket.write(textFrame(JSON.stringify({ type: 'auth_success', version: 1, connectionId: 'c-bench', userId: 'bench' })));
  socket.once('data', async () => {
    socket.write(textFrame(JSON.stringify({ type: 'subscribed', channel: 'bench', ref: 's1', offset: 0, epoch: 'E' })));
    process.stdout.write('subscribed\n');
    await go;
    socket.write(stream);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
