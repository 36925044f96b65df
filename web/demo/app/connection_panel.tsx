// The connection panel: the state from the library's useRealtimeConnection (with its reconnect()), the
// <ConnectionStatus /> dot, and the client's metrics.
//
// Test hooks: #connection[data-state][data-queue][data-inflight][data-reconnects].
import { useEffect, useState } from 'react';
import type { ClientMetrics, TidewireClient } from 'tidewire';
import { ConnectionStatus, useRealtimeConnection } from 'tidewire/react';

/**
 * client.getMetrics(), read again every `everyMs` and whenever the connection state changes. (The library
 * has no store for the metrics: they change with every message, so a view samples them.)
 */
function useMetrics(client: TidewireClient, state: string, everyMs = 1000): ClientMetrics {
  const [metrics, setMetrics] = useState(() => client.getMetrics());
  useEffect(() => {
    const refresh = () => {
      if (!client.closed) setMetrics(client.getMetrics());
    };
    refresh();
    const timer = setInterval(refresh, everyMs);
    return () => clearInterval(timer);
  }, [client, state, everyMs]);
  return metrics;
}

export function ConnectionPanel() {
  const { status, reconnect, client } = useRealtimeConnection();
  const m = useMetrics(client, status);
  const rows: Array<[string, string, string]> = [
    ['state', 'State', status],
    ['latency', 'Latency', m.lastLatencyMs < 0 ? '—' : `${Math.round(m.lastLatencyMs)} ms`],
    ['queue', 'Queue depth', String(m.queueDepth)],
    ['inflight', 'Awaiting ack', String(m.inflight)],
    ['reconnects', 'Reconnects', String(m.reconnects)],
    ['attempts', 'Failed attempts', String(m.reconnectAttempts)],
    ['traffic', 'Messages in / out', `${m.messagesReceived} / ${m.messagesSent}`],
    ['channels', 'Channels', String(m.channelCount)],
  ];
  return (
    <section
      id="connection"
      className="card"
      aria-labelledby="connection-title"
      data-state={status}
      data-queue={m.queueDepth}
      data-inflight={m.inflight}
      data-reconnects={m.reconnects}
    >
      <div className="card-head">
        <h2 id="connection-title">Connection</h2>
        <ConnectionStatus />
      </div>
      <dl className="metrics">
        {rows.map(([key, label, value]) => (
          <div key={key} className="metric" data-metric={key}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="tw-button" onClick={reconnect}>
        Reconnect now
      </button>
    </section>
  );
}
