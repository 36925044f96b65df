// The server's /metrics (Prometheus text), for the tests that count connections, deliveries or errors.

/** The value of the line `name value` at `${httpUrl}/metrics`; 0 when the server prints no such line. */
export async function metric(httpUrl, name) {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}
