// Test hooks on the page, from the library's connection hook: <body data-state> is the client's connection
// state (useRealtimeConnection), and window.tidewireDemo.client the signed-in client (for the console and
// tests/browser/helpers/demo.mjs). Renders nothing.
import { useEffect } from 'react';
import type { TidewireClient } from 'tidewire';
import { useRealtimeConnection } from 'tidewire/react';

declare global {
  interface Window {
    /** The signed-in client, for the console and tests. */
    tidewireDemo?: { client: TidewireClient };
  }
}

export function PageState() {
  const { status, client } = useRealtimeConnection();
  useEffect(() => {
    document.body.dataset.state = status;
  }, [status]);
  useEffect(() => {
    window.tidewireDemo = { client };
    return () => {
      document.body.dataset.state = 'idle';
      if (window.tidewireDemo?.client === client) delete window.tidewireDemo;
    };
  }, [client]);
  return null;
}
