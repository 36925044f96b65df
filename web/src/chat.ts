// Chat (docs/PROTOCOL.md section 11): rooms and direct messages over RPCs, and one ChatRoom per open room whose
// state (messages with paging and resume, own messages waiting for the server, reactions, participants, typing
// users that expire) lives in the wasm core (WasmChatRoom).
import type { Channel } from './channel.js';
import { RoomList } from './chat_rooms.js';
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import type { WasmChatRoom } from './state_module.js';
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
  /** The client message id of a pending or failed message (pass it to retry() or discard()). */
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
  /** Opens a room's live view: messages (first page loaded), typing users, reactions, participants. */
  room(roomId: string): ChatRoom {
    return new ChatRoom(this.#client, roomId);
  }
  /**
   * The live list of this user's rooms: fetched once, then kept current by the server's pushes on the user's
   * own channel `user:<userId>` (new rooms and DMs, new messages, unread counts; section 11). close() it.
   */
  rooms(): RoomList {
    return new RoomList(this.#client);
  }
}

export class ChatRoom {
  readonly roomId: string;
  #client: TidewireClient;
  #handle: Channel;
  #state: WasmChatRoom | undefined;
  #snapshot: ChatRoomSnapshot = { messages: [], typingUsers: [], hasMore: true, participants: [], memberEvents: [], ended: null };
  #ended: ChatRoomSnapshot['ended'] = null;
  #listeners = new Set<(s: ChatRoomSnapshot) => void>();
  #unsubs: Array<() => void> = [];
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #ready: Promise<void>;
  #resuming: Promise<void> | undefined;
  #resumeAgain = false;

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

  /**
   * Sends a message. It shows at once with `status: 'pending'` (also while offline: it is sent on reconnect),
   * then is replaced by the server's message, or marked `failed` (retry() it). Rejects at once with
   * `invalid_argument` for a text the server would refuse (see chatTextProblem()). The message carries a client
   * id, so a resend after a reconnect is never stored twice.
   */
  async send(text: string): Promise<ChatMessage> {
    checkText(text);
    await this.#ready;
    const clientId = newMessageId();
    const pending: ChatMessage = {
      id: `pending-${clientId}`,
      clientId,
      roomId: this.roomId,
      senderId: this.#client.userId,
      text,
      createdAt: Date.now(),
      editedAt: null,
      reactions: {},
    };
    this.#state?.addPending(JSON.stringify(pending));
    this.#publish();
    return this.#deliver(clientId, text);
  }

  /** Sends a failed message again (same client id, so it is stored once). */
  async retry(clientId: string): Promise<ChatMessage> {
    const message = this.#snapshot.messages.find((m) => m.clientId === clientId);
    if (message === undefined || this.#state === undefined || !this.#state.markPending(clientId, '')) {
      throw new TidewireError(ErrorCode.invalidArgument, `tidewire: no unsent message "${clientId}" in room ${this.roomId} to retry`);
    }
    this.#publish();
    return this.#deliver(clientId, message.text);
  }

  /** Drops a failed (or pending) message from the view. A pending one may still arrive if it was sent. */
  discard(clientId: string): void {
    if (this.#state?.settlePending(clientId, '')) this.#publish();
  }

  async edit(messageId: string, text: string): Promise<ChatMessage> {
    checkText(text);
    const data = await this.#client.request<{ message: ChatMessage }>('chat_edit', { roomId: this.roomId, messageId, text });
    this.#state?.applyMessage(JSON.stringify(data.message));
    this.#publish();
    return data.message;
  }

  /** Adds (or with `add = false` removes) this user's reaction. */
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

  async #deliver(clientId: string, text: string): Promise<ChatMessage> {
    try {
      const data = await this.#client.request<{ message: ChatMessage }>('chat_send', { roomId: this.roomId, text, id: clientId });
      if (this.#state && !this.#state.settlePending(clientId, JSON.stringify(data.message))) {
        this.#state.applyMessage(JSON.stringify(data.message));
      }
      this.#publish();
      return data.message;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (this.#state?.markPending(clientId, message || 'refused')) this.#publish();
      throw e;
    }
  }

  async #start(): Promise<void> {
    const state = await this.#client._stateModule();
    if (this.#closed) return;
    this.#state = state.chatRoom(TYPING_TTL_MS);
    const apply = (fn: (s: WasmChatRoom, json: string) => boolean) => (m: { payload: unknown }) => {
      if (this.#state && fn(this.#state, JSON.stringify(m.payload))) this.#publish();
    };
    const member = (joined: boolean) => (m: { payload: unknown; ts: number }) => {
      if (this.#state && this.#state.applyMember(JSON.stringify(m.payload), joined, m.ts || Date.now())) this.#publish();
    };
    this.#unsubs.push(
      this.#handle.on('message', apply((s, j) => s.applyMessage(j))),
      this.#handle.on('message_edited', apply((s, j) => s.applyMessage(j))),
      this.#handle.on('reaction', apply((s, j) => s.applyReaction(j))),
      this.#handle.on('typing', apply((s, j) => s.applyTyping(j, performance.now()))),
      this.#handle.on('member_joined', member(true)),
      this.#handle.on('member_left', member(false)),
      // Every (re)subscription resumes after the newest message this room holds, and so does a gap (the server
      // could not replay what was missed): messages stored meanwhile (sent by others, or while this client or
      // the server was down) appear in the open room, in order and once.
      this.#client._onSubscribed(`chat:${this.roomId}`, () => this.#resume()),
      this.#handle.onGap(() => this.#resume()),
      this.#handle.onError((e) => {
        if (!(ENDED_CODES as readonly string[]).includes(e.code)) return;
        this.#ended = { code: e.code, message: e.message };
        this.#publish();
      }),
    );
  }

  /** Catches up (one run at a time; a request during a run runs once more after it). */
  #resume(): void {
    if (this.#resuming) {
      this.#resumeAgain = true;
      return;
    }
    this.#resuming = this.#catchUp()
      .catch(() => undefined) // disconnected meanwhile: the next subscription confirmation resumes again
      .finally(() => {
        this.#resuming = undefined;
        if (this.#resumeAgain && !this.#closed) {
          this.#resumeAgain = false;
          this.#resume();
        }
      });
  }

  async #catchUp(): Promise<void> {
    const participants = this.#loadParticipants();
    if (this.#state && this.#state.messageCount() === 0) {
      await this.loadOlder();
    } else {
      for (;;) {
        const after = this.#state?.newestId() ?? '';
        if (this.#closed || after === '') break;
        const data = await this.#client.request<{ hasMore?: boolean }>('chat_history', { roomId: this.roomId, after, limit: RESUME_PAGE });
        if (!this.#state) break;
        this.#state.applyNewer(JSON.stringify(data));
        this.#publish();
        // Stop at the end, and if a page brought nothing newer (never loop on a server that ignores `after`).
        if (data?.hasMore !== true || this.#state.newestId() === after) break;
      }
    }
    await participants;
  }

  /** The participants as stored (events seen later adjust them). */
  async #loadParticipants(): Promise<void> {
    const rooms = await this.#client.request<{ rooms: ChatRoomInfo[] }>('chat_list_rooms', {}).catch(() => undefined);
    const room = rooms?.rooms.find((r) => r.id === this.roomId);
    if (room && this.#state?.setParticipants(JSON.stringify(room.participants))) this.#publish();
  }

  #publish(): void {
    const state = this.#state;
    if (!state) return;
    const now = performance.now();
    this.#snapshot = {
      messages: JSON.parse(state.messages()) as ChatMessage[],
      typingUsers: JSON.parse(state.typingUsers(now)) as string[],
      hasMore: state.hasMore(),
      participants: JSON.parse(state.participants()) as string[],
      memberEvents: JSON.parse(state.memberEvents()) as ChatMemberEvent[],
      ended: this.#ended,
    };
    // Typing users expire by themselves: publish again when the next one does.
    clearTimeout(this.#typingTimer);
    const next = state.nextTypingExpiry();
    if (next >= 0) this.#typingTimer = setTimeout(() => this.#publish(), Math.max(0, next - now) + 1);
    for (const l of [...this.#listeners]) l(this.#snapshot);
  }
}
