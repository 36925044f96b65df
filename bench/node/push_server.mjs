// A live push server, used by the first-message benchmark (bench/node/first_message.mjs); the throughput benches
// use bench/node/prebuilt_push_server.mjs, whose frames are all built before the timed part (issue #14). This one
// speaks enough of the tidewire protocol (auth_success, subscribed) and then pushes N channel messages ({seq, ts, text}, about 120 bytes of payload) as fast as the
// socket drains. `--batch K` joins K messages per frame with '\n' (the protocol's batching); with a client URL
// containing `binary=1` the frames go as binary 0x00 JSON batches. Baseline clients get one message per frame.
import { parseArgs } from 'node:util';

import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '200000' }, batch: { type: 'string', default: '1' } } });
const N = Number(values.messages);
const BATCH = Number(values.batch);
const text = 'the quick brown fox jumps over the lazy dog 0123456789 abcdefghij';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, handleProtocols: (p) => (p.has('jwt') ? 'jwt' : false) });
wss.on('connection', (ws, req) => {
  const binary = /[?&]binary=1/.test(req.url ?? '');
  ws.send(JSON.stringify({ type: 'auth_success', version: 1, connectionId: 'c-bench', userId: 'bench' }));
  ws.once('message', () => {
    ws.send(JSON.stringify({ type: 'subscribed', channel: 'bench', ref: 's1', offset: 0, epoch: 'E' }));
    let seq = 0;
    const pump = () => {
      while (seq < N && ws.bufferedAmount < 1 << 20) {
        const lines = [];
        for (let i = 0; i < BATCH && seq < N; i += 1, seq += 1) {
          lines.push(`{"type":"channel_message","channel":"bench","event":"tick","offset":${seq + 1},"epoch":"E","ts":${Date.now()},"from":"server","payload":{"seq":${seq},"ts":${Date.now()},"text":"${text}"}}`);
        }
        const frame = lines.join('\n');
        ws.send(binary ? Buffer.concat([Buffer.from([0]), Buffer.from(frame)]) : frame);
      }
      if (seq < N) setImmediate(pump);
    };
    pump();
  });
});
wss.on('listening', () => process.stdout.write(`listening on http://127.0.0.1:${wss.address().port}\n`));
