// Chat (docs/PROTOCOL.md section 11): rooms and direct messages over RPCs, and one ChatRoom per open room whose
// state (messages with paging and resume, own messages waiting for the server, reactions, participants, typing
// users that expire) lives in the state module (WasmChatRoom). A ChatRoom is a store (store.ts): its snapshot is a
// ChatRoomSnapshot.
import type { Channel } from './channel.js';
import { ChannelStateStore } from './channel_store.js';
import { RoomList } from './chat_rooms.js';
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import type { StateModule, WasmChatRoom } from './state_module.js';
import { ChatLimits, ErrorCode, UnsubscribeReason } from './wire.js';

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
  /** The server's id (a decimal string); `pending-<clientId>` while an own message waits for the server. */
  id: string;
  roomId: string;
  senderId: string;
  text: string;
  createdAt: number;
  editedAt: number | null;
  /** Reaction counts by emoji. */
  reactions: Record<string, number>;
  /** Who reacted, by emoji: mark this user's own reactions (and toggle them off with `react(id, emoji, false)`). */
  reactedBy?: Record<string, string[]>;
  /**
   * Only on this user's own messages the server has not stored yet: `pending` while waiting (also while
   * offline: it is sent on reconnect), `failed` when it was refused (`error` says why; `ChatRoom.retry()`).
   */
  status?: 'pending' | 'failed';
  /**
   * The client message id: of a pending or failed message (pass it to retry() or discard()), and, from the
   * server, of a stored message its sender gave one (chat_send's `id`).
   */
  clientId?: string;
  error?: string;
}

/** A `member_joined` / `member_left` seen while the room was open. */
export interface ChatMemberEvent {
  userId: string;
  joined: boolean;
  /** The event's server time (ms since the epoch). */
  at: number;
}

export interface ChatRoomSnapshot {
  /** Oldest first; this user's pending and failed messages last, in send order. */
  messages: ChatMessage[];
  typingUsers: string[];
  hasMore: boolean;
  /** The room's participants (user ids, sorted); empty until known. */
  participants: string[];
  /** Joins and leaves while the room was open, oldest first. */
  memberEvents: ChatMemberEvent[];
  /**
   * Set when the server ended this room's subscription: `code` `room_left` (this user left, perhaps on another
   * device), `room_deleted`, or `access_revoked`. No more live messages arrive; close() the room.
   */
  ended: { code: string; message: string } | null;
  /** False until the room's first page of messages arrived. */
  loaded: boolean;
}

/** A client message id: unique enough per sender (the server deduplicates per sender and room). */
export function newMessageId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** The length of `text` as the server counts it: Unicode code points. */
export function chatTextLength(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

// Whitespace (Unicode White_Space) and zero-width characters: a text of only these is empty (section 11).
const BLANK = /^[\p{White_Space}\u200B-\u200D\u2060\uFEFF]*$/u;

/**
 * Why `text` cannot be sent as a chat message, or null when it can: longer than ChatLimits.textMaxChars
 * (never cut), or only whitespace / zero-width characters. The server refuses the same (`bad_request`).
 */
export function chatTextProblem(text: string): string | null {
  if (typeof text !== 'string') return 'the message text must be a string';
  if (BLANK.test(text)) return 'the message is empty (only spaces or invisible characters): type some text';
  const n = chatTextLength(text);
  if (n > ChatLimits.textMaxChars) {
    const max = ChatLimits.textMaxChars.toLocaleString('en-US');
    return `the message is ${n.toLocaleString('en-US')} characters long and the limit is ${max}: shorten it or split it into several messages`;
  }
  return null;
}

function checkText(text: string): void {
  const problem = chatTextProblem(text);
  if (problem !== null) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: ${problem}`);
}

const TYPING_TTL_MS = 6000; // the server ends typing after 5 s without a refresh; keep a little slack
const RESUME_PAGE = 200; // chat_history's largest page
const EMPTY_ROOM: ChatRoomSnapshot = { messages: [], typingUsers: [], hasMore: true, participants: [], memberEvents: [], ended: null, loaded: false };
const ENDED_CODES = [UnsubscribeReason.roomLeft, UnsubscribeReason.roomDeleted, UnsubscribeReason.accessRevoked] as const;

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
  /** Deletes a room (its creator only; not a DM). */
  async deleteRoom(roomId: string): Promise<void> {
    await this.#client.request('chat_delete_room', { roomId });
  }
  async listRooms(): Promise<ChatRoomInfo[]> {
    return (await this.#client.request<{ rooms: ChatRoomInfo[] }>('chat_list_rooms', {})).rooms;
  }
  /**
   * Opens a room's live view: messages (first page loaded), typing users, reactions, participants. `eager`
   * (default true) opens it now until close(); false opens it with its first listener (see ChatRoom).
   */
  room(roomId: string, eager = true): ChatRoom {
    return new ChatRoom(this.#client, roomId, eager);
  }
  /**
   * The live list of this user's rooms: fetched once, then kept current by the server's pushes on the user's
   * own channel `user:<userId>` (new rooms and DMs, new messages, unread counts; section 11). close() it.
   */
  rooms(eager = true): RoomList {
    return new RoomList(this.#client, eager);
  }
}

/** One open room, live: a store whose snapshot is a ChatRoomSnapshot; its actions work before it is online. */
export class ChatRoom extends ChannelStateStore<ChatRoomSnapshot, WasmChatRoom> {
  protected readonly kind = 'chat room';
  readonly roomId: string;
  #ended: ChatRoomSnapshot['ended'] = null;
  #loaded = false;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #resuming: Promise<void> | undefined;
  #resumeAgain = false;

  /**
   * `eager` (default true): subscribes now and stays until close(). False: subscribes when the first listener
   * does and leaves a grace period after the last (how the React hook uses it; creating it has no side effects).
   */
  constructor(client: TidewireClient, roomId: string, eager = true) {
    super(client, `chat:${roomId}`, EMPTY_ROOM);
    this.roomId = roomId;
    if (eager) this.retain(); // released by close()
  }

  get snapshot(): ChatRoomSnapshot {
    return this.getSnapshot();
  }

  /** Called with the snapshot whenever it changes (and brings the room online). Returns unsubscribe. */
  onChange(listener: (s: ChatRoomSnapshot) => void): () => void {
    return this.subscribe(() => listener(this.getSnapshot()));
  }

  /** Loads the page before the oldest loaded message. Resolves to whether older messages remain. */
  loadOlder(limit = 50): Promise<boolean> {
    return this.act(async (state) => {
      const before = state.oldestId();
      const data = await this.client.request('chat_history', { roomId: this.roomId, limit, ...(before ? { before } : {}) });
      if (this.state !== state) return false;
      state.applyHistory(JSON.stringify(data));
      this.#loaded = true;
      this.changed();
      return state.hasMore();
    });
  }

  /**
   * Sends a message. It shows at once with `status: 'pending'` (also while offline: it is sent on reconnect),
   * then is replaced by the server's message, or marked `failed` (retry() it). Rejects at once with
   * `invalid_argument` for a text the server would refuse (see chatTextProblem()). The message carries a client
   * id, so a resend after a reconnect is never stored twice.
   */
  async send(text: string): Promise<ChatMessage> {
    checkText(text);
    return this.act((state) => {
      const clientId = newMessageId();
      const pending: ChatMessage = {
        id: `pending-${clientId}`,
        clientId,
        roomId: this.roomId,
        senderId: this.client.userId,
        text,
        createdAt: Date.now(),
        editedAt: null,
        reactions: {},
      };
      state.addPending(JSON.stringify(pending));
      this.changed();
      return this.#deliver(state, clientId, text);
    });
  }

  /** Sends a failed message again (same client id, so it is stored once). */
  retry(clientId: string): Promise<ChatMessage> {
    return this.act((state) => {
      const message = this.getSnapshot().messages.find((m) => m.clientId === clientId);
      if (message === undefined || !state.markPending(clientId, '')) {
        throw new TidewireError(ErrorCode.invalidArgument, `tidewire: no unsent message "${clientId}" in room ${this.roomId} to retry`);
      }
      this.changed();
      return this.#deliver(state, clientId, message.text);
    });
  }

  /** Drops a failed (or pending) message from the view. A pending one may still arrive if it was sent. */
  discard(clientId: string): void {
    if (this.state?.settlePending(clientId, '')) this.changed();
  }

  async edit(messageId: string, text: string): Promise<ChatMessage> {
    checkText(text);
    return this.act(async (state) => {
      const data = await this.client.request<{ message: ChatMessage }>('chat_edit', { roomId: this.roomId, messageId, text });
      if (this.state === state && state.applyMessage(JSON.stringify(data.message))) this.changed();
      return data.message;
    });
  }

  /** Adds (or with `add = false` removes) this user's reaction. */
  async react(messageId: string, emoji: string, add = true): Promise<void> {
    await this.client.request('chat_react', { roomId: this.roomId, messageId, emoji, add });
  }

  /** Tells the room this user is (or stopped) typing. The server ends it by itself after 5 s. */
  setTyping(typing: boolean): void {
    this.client.notify('chat_typing', { roomId: this.roomId, typing });
  }

  async markRead(messageId: string): Promise<void> {
    await this.client.request('chat_mark_read', { roomId: this.roomId, messageId });
  }

  protected createState(module: StateModule): WasmChatRoom {
    return module.chatRoom(TYPING_TTL_MS);
  }

  protected wire(handle: Channel, state: WasmChatRoom): Array<() => void> {
    const apply = (fn: (json: string) => boolean) => (m: { payload: unknown }) => {
      if (fn(JSON.stringify(m.payload))) this.changed();
    };
    const member = (joined: boolean) => (m: { payload: unknown; ts: number }) => {
      if (state.applyMember(JSON.stringify(m.payload), joined, m.ts || Date.now())) this.changed();
    };
    this.#ended = null;
    // persistOutbox: this room's messages sent by an earlier page show as pending until they are settled (the
    // code loads with the persisted outbox's, only then).
    let restored: (() => void) | undefined;
    let wired = true;
    if (this.client.options.persistOutbox) {
      void import('./chat_outbox.js').then(({ wireRestoredChat }) => {
        if (wired) restored = wireRestoredChat(this.client, this.roomId, state, () => this.state === state && this.changed());
      });
    }
    return [
      () => {
        wired = false;
        restored?.();
      },
      handle.on('message', apply((j) => state.applyMessage(j))),
      handle.on('message_edited', apply((j) => state.applyMessage(j))),
      handle.on('reaction', apply((j) => state.applyReaction(j))),
      handle.on('typing', apply((j) => state.applyTyping(j, performance.now()))),
      handle.on('member_joined', member(true)),
      handle.on('member_left', member(false)),
      // Every (re)subscription resumes after the newest message this room holds, and so does a gap (the server
      // could not replay what was missed): messages stored meanwhile (sent by others, or while this client or
      // the server was down) appear in the open room, in order and once.
      handle.onSubscribed(() => this.#resume(state)),
      handle.onGap(() => this.#resume(state)),
      handle.onError((e) => {
        if (!(ENDED_CODES as readonly string[]).includes(e.code)) return;
        this.#ended = { code: e.code, message: e.message };
        this.changed();
      }),
      () => {
        clearTimeout(this.#typingTimer);
        this.#typingTimer = undefined;
      },
    ];
  }

  protected reset(): void {
    // The messages stay visible (a cache) until the room is online again and resumes.
    this.#resumeAgain = false;
  }

  protected read(previous: ChatRoomSnapshot): ChatRoomSnapshot {
    const state = this.state;
    if (!state) return previous;
    const now = performance.now();
    // Typing users expire by themselves: the snapshot changes again when the next one does.
    clearTimeout(this.#typingTimer);
    const next = state.nextTypingExpiry();
    if (next >= 0) this.#typingTimer = setTimeout(() => this.changed(), Math.max(0, next - now) + 1);
    return {
      messages: JSON.parse(state.messages()) as ChatMessage[],
      typingUsers: JSON.parse(state.typingUsers(now)) as string[],
      hasMore: state.hasMore(),
      participants: JSON.parse(state.participants()) as string[],
      memberEvents: JSON.parse(state.memberEvents()) as ChatMemberEvent[],
      ended: this.#ended,
      loaded: this.#loaded,
    };
  }

  async #deliver(state: WasmChatRoom, clientId: string, text: string): Promise<ChatMessage> {
    try {
      // `persist`: with persistOutbox it survives a reload (the server stores a client id once).
      const data = await this.client.request<{ message: ChatMessage }>('chat_send', { roomId: this.roomId, text, id: clientId }, { persist: true });
      if (this.state === state) {
        const json = JSON.stringify(data.message);
        state.settlePending(clientId, json);
        this.changed();
      }
      return data.message;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (this.state === state && state.markPending(clientId, message || 'refused')) this.changed();
      throw e;
    }
  }

  /** Catches up (one run at a time; a request during a run runs once more after it). */
  #resume(state: WasmChatRoom): void {
    if (this.#resuming) {
      this.#resumeAgain = true;
      return;
    }
    this.#resuming = this.#catchUp(state)
      .catch(() => undefined) // disconnected meanwhile: the next subscription confirmation resumes again
      .finally(() => {
        this.#resuming = undefined;
        if (this.#resumeAgain && this.state === state) {
          this.#resumeAgain = false;
          this.#resume(state);
        }
      });
  }

  async #catchUp(state: WasmChatRoom): Promise<void> {
    const participants = this.#loadParticipants(state);
    if (state.messageCount() === 0) {
      await this.loadOlder();
    } else {
      for (;;) {
        const after = state.newestId();
        if (this.state !== state || after === '') break;
        const data = await this.client.request<{ hasMore?: boolean }>('chat_history', { roomId: this.roomId, after, limit: RESUME_PAGE });
        if (this.state !== state) break;
        state.applyNewer(JSON.stringify(data));
        this.#loaded = true;
        this.changed();
        // Stop at the end, and if a page brought nothing newer (never loop on a server that ignores `after`).
        if (data?.hasMore !== true || state.newestId() === after) break;
      }
    }
    await participants;
  }

  /** The participants as stored (events seen later adjust them). */
  async #loadParticipants(state: WasmChatRoom): Promise<void> {
    const rooms = await this.client.request<{ rooms: ChatRoomInfo[] }>('chat_list_rooms', {}).catch(() => undefined);
    const room = rooms?.rooms.find((r) => r.id === this.roomId);
    if (room && this.state === state && state.setParticipants(JSON.stringify(room.participants))) this.changed();
  }
}
