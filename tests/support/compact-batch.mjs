// A reference reader of protocol v2 compact batches (docs/PROTOCOL.md section 13.1), written from the spec for
// the tests (the client reads them in wasm: src/protocol/compact_batch.cpp). Returns the frame's messages in
// order: 'j' records parsed as JSON, 'm' records as channel_message objects. Each 'm' message also carries
// `sliced`: its payload and sender cut out of the whole frame decoded once as text, by the record's UTF-16 lengths.
const decoder = new TextDecoder('utf-8', { fatal: true });

export function readCompactBatch(buf) {
  if (buf[0] !== 0x02) throw new Error(`not a compact batch: kind ${buf[0]}`);
  const text = decoder.decode(buf); // the whole frame is valid UTF-8
  let pos = 1;
  let units = 1;
  const a7 = (end) => {
    let v = 0;
    for (let scale = 1; pos < end; scale *= 64) {
      const b = buf[pos++];
      if (b & 0x80) throw new Error('a7: not ASCII');
      v += (b & 0x3f) * scale;
      if (!(b & 0x40)) return v;
    }
    throw new Error('a7: truncated');
  };
  const str = (end) => {
    const n = a7(end);
    const s = decoder.decode(buf.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const out = [];
  while (pos < buf.length) {
    const start = pos;
    const tag = String.fromCharCode(buf[pos++]);
    const bodyBytes = a7(buf.length);
    const bodyUnits = a7(buf.length);
    const bodyStart = pos;
    const end = bodyStart + bodyBytes;
    if (end > buf.length) throw new Error('record past the frame');
    units += bodyStart - start + bodyUnits;
    if (tag === 'j') {
      out.push(JSON.parse(decoder.decode(buf.subarray(bodyStart, end))));
    } else if (tag === 'm') {
      const channel = str(end);
      const event = str(end);
      const epoch = str(end);
      const offset = a7(end);
      const ts = a7(end);
      const fromBytes = a7(end);
      const fromUnits = a7(end);
      const payloadUnits = a7(end);
      const from = decoder.decode(buf.subarray(pos, pos + fromBytes));
      const payloadText = decoder.decode(buf.subarray(pos + fromBytes, end));
      const sliced = {
        from: text.slice(units - payloadUnits - fromUnits, units - payloadUnits),
        payload: text.slice(units - payloadUnits, units),
      };
      out.push({ type: 'channel_message', channel, event, offset, ts, from, epoch, payload: JSON.parse(payloadText), payloadText, sliced });
    } else {
      throw new Error(`unknown record tag ${tag}`);
    }
    pos = end;
  }
  return out;
}
