// persistOutbox in a chat room (issue #18): the room's messages sent by an earlier page (chat_send requests kept
// in IndexedDB and resent after a reload) show as pending until their reply or failure arrives through
// onOutboxResult. Loaded lazily with the persisted outbox, by rooms of clients that persist.
import type { ChatMessage } from './chat.js';
import type { TidewireClient } from './client.js';
import type { WasmChatRoom } from './state_module.js';
import type { OutboxResult, RestoredSend } from './types.js';

/** Shows `roomId`'s restored sends in `state` and settles them; `changed` tells the room. Returns the undo. */
export function wireRestoredChat(client: TidewireClient, roomId: string, state: WasmChatRoom, changed: () => void): () => void {
  const own = (r: RestoredSend | OutboxResult): { id: string; text: string } | undefined => {
    const body = r.payload as { roomId?: unknown; id?: unknown; text?: unknown } | null;
    const mine = r.event === 'chat_send' && body?.roomId === roomId && typeof body.id === 'string';
    return mine ? { id: body.id as string, text: String(body.text) } : undefined;
  };
  let live = true;
  void client.ready.then(() => {
    if (!live) return;
    for (const r of client.getRestoredSends()) {
      const m = own(r);
      if (m === undefined) continue;
      const pending: ChatMessage = {
        id: `pending-${m.id}`,
        clientId: m.id,
        roomId,
        senderId: client.userId,
        text: m.text,
        createdAt: r.queuedAtMs,
        editedAt: null,
        reactions: {},
      };
      state.addPending(JSON.stringify(pending));
      changed();
    }
  });
  const off = client.onOutboxResult((r) => {
    const m = own(r);
    if (m === undefined || !live) return;
    const message = (r.data as { message?: ChatMessage } | undefined)?.message;
    if (r.ok && message !== undefined) {
      const json = JSON.stringify(message);
      state.settlePending(m.id, json);
    } else {
      state.markPending(m.id, r.error?.message || 'refused');
    }
    changed();
  });
  return () => {
    live = false;
    off();
  };
}
