// Compatibility (web/src/compat: the seeds' API shapes, kept working over the library's own API).
// The seeds' chat service shape (connect, subscribeToRoom, sendMessage, onMessage, …) over the tidewire client.
// Every listener method returns its unsubscribe function. Rooms are `chat:<roomId>` channels on the server.
import type { Channel } from '../channel.js';
import { chatTextProblem, newMessageId, type ChatMessage } from '../chat.js';
import type { TidewireClient } from '../client.js';
import { TidewireError } from '../errors.js';
import { ErrorCode, type ConnectionState } from '../wire.js';

export class ChatService {
  #client: TidewireClient;
  #rooms = new Map<string, Channel>();

  constructor(client: TidewireClient) {
    this.#client = client;
  }

  /** Opens the connection (kept open until disconnect()); resolves once connected. */
  connect(): Promise<void> {
    this.#client.connect();
    if (this.#client.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.#client.onStateChange(({ to, reason }) => {
        if (to === 'connected') {
          off();
          resolve();
        } else if (to === 'error') {
          off();
          reject(new TidewireError(ErrorCode.connectionRefused, `could not connect: ${reason}`));
        }
      });
    });
  }

  disconnect(): void {
    for (const ch of this.#rooms.values()) ch.unsubscribe();
    this.#rooms.clear();
    this.#client.disconnect();
  }

  getConnectionStatus(): ConnectionState {
    return this.#client.state;
  }

  /** Subscribes to a room's live traffic (participants only); resolves when the server confirmed it. */
  subscribeToRoom(roomId: string): Promise<void> {
    let ch = this.#rooms.get(roomId);
    if (ch === undefined) {
      ch = this.#client.channel(`chat:${roomId}`).subscribe();
      this.#rooms.set(roomId, ch);
    }
    return ch.whenSubscribed();
  }

  unsubscribeFromRoom(roomId: string): void {
    this.#rooms.get(roomId)?.unsubscribe();
    this.#rooms.delete(roomId);
  }

  /** Sends a message; rejects with `invalid_argument` for an empty or too long text (see chatTextProblem()). */
  async sendMessage(roomId: string, content: string): Promise<ChatMessage> {
    const problem = chatTextProblem(content);
    if (problem !== null) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: ${problem}`);
    return (await this.#client.request<{ message: ChatMessage }>('chat_send', { roomId, text: content, id: newMessageId() }))
      .message;
  }

  /** Resolves true when sent; typing notices are not queued while disconnected. */
  async sendTypingIndicator(roomId: string, isTyping: boolean): Promise<boolean> {
    return this.#client.notify('chat_typing', { roomId, typing: isTyping });
  }

  /** Adds this user's reaction (`add = false` removes it). */
  async sendReaction(messageId: string, roomId: string, reaction: string, add = true): Promise<void> {
    await this.#client.request('chat_react', { roomId, messageId, emoji: reaction, add });
  }

  /** New messages in a room (subscribes to it if needed). */
  onMessage(roomId: string, listener: (message: ChatMessage) => void): () => void {
    void this.subscribeToRoom(roomId).catch(() => undefined);
    return this.#rooms.get(roomId)!.on<ChatMessage>('message', (m) => listener(m.payload));
  }

  /** Typing indicators in a room: `(userId, isTyping)`. */
  onTyping(roomId: string, listener: (userId: string, isTyping: boolean) => void): () => void {
    void this.subscribeToRoom(roomId).catch(() => undefined);
    return this.#rooms.get(roomId)!.on<{ userId: string; typing: boolean }>('typing', (m) =>
      listener(m.payload.userId, m.payload.typing),
    );
  }

  /** Users joining a room (`member_joined`): `(userId)`. */
  onMemberJoined(roomId: string, listener: (userId: string) => void): () => void {
    return this.#onMember(roomId, 'member_joined', listener);
  }

  /** Users leaving a room (`member_left`): `(userId)`. */
  onMemberLeft(roomId: string, listener: (userId: string) => void): () => void {
    return this.#onMember(roomId, 'member_left', listener);
  }

  #onMember(roomId: string, event: string, listener: (userId: string) => void): () => void {
    void this.subscribeToRoom(roomId).catch(() => undefined);
    return this.#rooms.get(roomId)!.on<{ userId?: unknown }>(event, (m) => {
      if (typeof m.payload?.userId === 'string') listener(m.payload.userId);
    });
  }

  onConnectionStatus(listener: (status: ConnectionState) => void): () => void {
    return this.#client.onStateChange(({ to }) => listener(to));
  }
}

/** A chat service on `client` (the seeds' `websocketChatService`). */
export function createChatService(client: TidewireClient): ChatService {
  return new ChatService(client);
}
