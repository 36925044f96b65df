// Chat (docs/PROTOCOL.md section 11): rooms and direct messages over RPCs, and one ChatRoom per open room whose
// state (messages with paging, reactions, typing users that expire) lives in the wasm core (WasmChatRoom).
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import type { WasmChatRoom } from './state_module.js';

export interface ChatRoomInfo {
  id: string;
  name: string;
  kind: 'room' | 'dm';
  visibility: 'public' | 'private';
  participants: string[];
  createdBy: string;
  createdAt: number;
  lastMessage?: ChatMessage | null;
  unreadCount?: number;
}

export interface ChatMessage {
  id: string;
  roomId: string;
  senderId: string;
  text: string;
  createdAt: number;
  editedAt: number | null;
  reactions: Record<string, number>;
}

export interface ChatRoomSnapshot {
  messages: ChatMessage[];
  typingUsers: string[];
  hasMore: boolean;
}

/** A client message id: unique enough per sender (the server deduplicates per sender and room). */
export function newMessageId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

const TYPING_TTL_MS = 6000; // the server ends typing after 5 s without a refresh; keep a little slack

/** Room-level operations. */
export class ChatClient {
  #client: TidewireClient;
  constructor(client: TidewireClient) {
    this.#client = client;
  }
  async createRoom(name: string, options: { visibility?: 'public' | 'private'; participants?: string[] } = {}): Promise<ChatRoomInfo> {
    return (await this.#client.request<{ room: ChatRoomInfo }>('chat_create_room', { name, ...options })).room;
  }
  async openDm(userId: string): Promise<ChatRoomInfo> {
    return (await this.#client.request<{ room: ChatRoomInfo }>('chat_open_dm', { userId })).room;
  }
  async joinRoom(roomId: string): Promise<ChatRoomInfo> {
    return (await this.#client.request<{ room: ChatRoomInfo }>('chat_join', { roomId })).room;
  }
  async leaveRoom(roomId: string): Promise<void> {
    await this.#client.request('chat_leave', { roomId });
  }
  async listRooms(): Promise<ChatRoomInfo[]> {
    return (await this.#client.request<{ rooms: ChatRoomInfo[] }>('chat_list_rooms', {})).rooms;
  }
  /** Opens a room's live view: messages (first page loaded), typing users, reactions. */
  room(roomId: string): ChatRoom {
    return new ChatRoom(this.#client, roomId);
  }
}

export class ChatRoom {
  readonly roomId: string;
  #client: TidewireClient;
  #handle: Channel;
  #state: WasmChatRoom | undefined;
  #snapshot: ChatRoomSnapshot = { messages: [], typingUsers: [], hasMore: true };
  #listeners = new Set<(s: ChatRoomSnapshot) => void>();
  #unsubs: Array<() => void> = [];
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #ready: Promise<void>;

  constructor(client: TidewireClient, roomId: string) {
    this.#client = client;
    this.roomId = roomId;
    this.#handle = client.channel(`chat:${roomId}`).subscribe();
    this.#ready = this.#start();
    this.#ready.catch(() => undefined); // reported on the client's error listeners; methods awaiting it still reject
  }

  get snapshot(): ChatRoomSnapshot {
    return this.#snapshot;
  }

  onChange(listener: (s: ChatRoomSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Loads the page before the oldest loaded message. Resolves to whether older messages remain. */
  async loadOlder(limit = 50): Promise<boolean> {
    await this.#ready;
    const before = this.#state?.oldestId() ?? '';
    const data = await this.#client.request('chat_history', { roomId: this.roomId, limit, ...(before ? { before } : {}) });
    this.#state?.applyHistory(JSON.stringify(data));
    this.#publish();
    return this.#state?.hasMore() ?? false;
  }

  /** Sends a message. It carries a client id, so a resend after a reconnect is never stored twice. */
  async send(text: string): Promise<ChatMessage> {
    const id = newMessageId();
    const data = await this.#client.request<{ message: ChatMessage }>('chat_send', { roomId: this.roomId, text, id });
    this.#state?.applyMessage(JSON.stringify(data.message));
    this.#publish();
    return data.message;
  }

  async edit(messageId: string, text: string): Promise<ChatMessage> {
    const data = await this.#client.request<{ message: ChatMessage }>('chat_edit', { roomId: this.roomId, messageId, text });
    this.#state?.applyMessage(JSON.stringify(data.message));
    this.#publish();
    return data.message;
  }

  async react(messageId: string, emoji: string, add = true): Promise<void> {
    await this.#client.request('chat_react', { roomId: this.roomId, messageId, emoji, add });
  }

  /** Tells the room this user is (or stopped) typing. The server ends it by itself after 5 s. */
  setTyping(typing: boolean): void {
    this.#client.notify('chat_typing', { roomId: this.roomId, typing });
  }

  async markRead(messageId: string): Promise<void> {
    await this.#client.request('chat_mark_read', { roomId: this.roomId, messageId });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#typingTimer);
    for (const u of this.#unsubs) u();
    this.#handle.unsubscribe();
    this.#state?.delete();
    this.#state = undefined;
    this.#listeners.clear();
  }

  async #start(): Promise<void> {
    const state = await this.#client._stateModule();
    if (this.#closed) return;
    this.#state = state.chatRoom(TYPING_TTL_MS);
    const apply = (fn: (s: WasmChatRoom, json: string) => boolean) => (m: { payload: unknown }) => {
      if (this.#state && fn(this.#state, JSON.stringify(m.payload))) this.#publish();
    };
    this.#unsubs.push(
      this.#handle.on('message', apply((s, j) => s.applyMessage(j))),
      this.#handle.on('message_edited', apply((s, j) => s.applyMessage(j))),
      this.#handle.on('reaction', apply((s, j) => s.applyReaction(j))),
      this.#handle.on('typing', apply((s, j) => s.applyTyping(j, performance.now()))),
      this.#client._onSubscribed(`chat:${this.roomId}`, () => {
        if (this.#state && this.#state.messageCount() === 0) this.loadOlder().catch(() => undefined);
      }),
    );
  }

  #publish(): void {
    const state = this.#state;
    if (!state) return;
    const now = performance.now();
    this.#snapshot = {
      messages: JSON.parse(state.messages()) as ChatMessage[],
      typingUsers: JSON.parse(state.typingUsers(now)) as string[],
      hasMore: state.hasMore(),
    };
    // Typing users expire by themselves: publish again when the next one does.
    clearTimeout(this.#typingTimer);
    const next = state.nextTypingExpiry();
    if (next >= 0) this.#typingTimer = setTimeout(() => this.#publish(), Math.max(0, next - now) + 1);
    for (const l of [...this.#listeners]) l(this.#snapshot);
  }
}
