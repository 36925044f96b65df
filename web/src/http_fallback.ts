// The HTTP transports' chunk: what a client needs only once it falls back to (or is configured for) SSE or long
// polling. transport_fallback.ts imports it with import() the first time, so the plain API does not carry it.
export { HttpSocket } from './http_socket.js';
export { UpgradeProbe } from './upgrade_probe.js';
