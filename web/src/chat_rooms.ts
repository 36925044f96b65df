// The live list of this user's chat rooms (docs/PROTOCOL.md section 11): fetched with chat_list_rooms, then kept
// current by the server's events on the user's own channel `user:<userId>`: `room` (a room's summary changed:
// created, DM opened, joined, new message, unread count, read marker, members) and `room_removed` (left or
// deleted). Fetched again on every (re)subscription of that channel and on a gap (the server could not replay
// what was missed). There is no polling.
import type { Channel } from './channel.js';
import type { ChatRoomInfo } from './chat.js';
import type { TidewireClient } from './client.js';
import type { TidewireError } from './errors.js';
import { LiveStore } from './store.js';

export interface RoomListSnapshot {
  /** Rooms by latest activity: those with messages newest first, then the others newest first. */
  rooms: ChatRoomInfo[];
  /** True until the first list arrived. */
  loading: boolean;
  /** The last fetch's error, if it failed. */
  error: TidewireError | null;
}

const EMPTY: RoomListSnapshot = { rooms: [], loading: true, error: null };

/** Decimal ids compared as integers; '' sorts first. */
function idLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** The server's order (chat_list_rooms): by the last message's id, newest first; rooms without one after. */
function byActivity(a: ChatRoomInfo, b: ChatRoomInfo): number {
  const la = a.lastMessage?.id ?? '';
  const lb = b.lastMessage?.id ?? '';
  if (la !== lb) {
    if (la === '' || lb === '') return la === '' ? 1 : -1;
    return idLess(la, lb) ? 1 : -1;
  }
  return a.id === b.id ? 0 : idLess(a.id, b.id) ? 1 : -1;
}

export class RoomList extends LiveStore<RoomListSnapshot> {
  protected readonly kind = 'room list';
  #client: TidewireClient;
  #userId = '';
  #handle: Channel | undefined;
  #channelOffs: Array<() => void> = [];
  #offState: (() => void) | undefined;
  #generation = 0;

  /**
   * `eager` (default true): fetches and follows the list now, until close(). False: when the first listener
   * subscribes, until a grace period after the last (how the React hook uses it; creating it has no side effects).
   */
  constructor(client: TidewireClient, eager = true) {
    super(EMPTY, () => client.graceMs);
    this.#client = client;
    if (eager) this.retain(); // released by close()
  }

  get snapshot(): RoomListSnapshot {
    return this.getSnapshot();
  }

  /** Called with the snapshot whenever it changes (and brings the list online). Returns unsubscribe. */
  onChange(listener: (s: RoomListSnapshot) => void): () => void {
    return this.subscribe(() => listener(this.getSnapshot()));
  }

  /** Fetches the whole list again (done by itself on every (re)subscription and gap). */
  async refresh(): Promise<ChatRoomInfo[]> {
    const mine = ++this.#generation;
    try {
      const rooms = await this.#client.chat.listRooms();
      if (mine === this.#generation && !this.closed) this.setSnapshot({ rooms: [...rooms].sort(byActivity), loading: false, error: null });
      return rooms;
    } catch (e) {
      if (mine === this.#generation && !this.closed) this.setSnapshot({ ...this.getSnapshot(), loading: false, error: e as TidewireError });
      throw e;
    }
  }

  /** Puts a room's summary in the list at once (e.g. the answer of createRoom(); the push follows). */
  upsert(room: ChatRoomInfo): void {
    if (this.closed || room === null || typeof room !== 'object' || typeof room.id !== 'string') return;
    const current = this.getSnapshot();
    const old = current.rooms.find((r) => r.id === room.id);
    // A bare room (an RPC's answer) keeps the summary fields the list already has.
    const next: ChatRoomInfo = {
      ...room,
      lastMessage: room.lastMessage !== undefined ? room.lastMessage : (old?.lastMessage ?? null),
      unreadCount: room.unreadCount !== undefined ? room.unreadCount : (old?.unreadCount ?? 0),
    };
    const rooms = [...current.rooms.filter((r) => r.id !== room.id), next].sort(byActivity);
    this.setSnapshot({ ...current, rooms });
  }

  remove(roomId: string): void {
    const current = this.getSnapshot();
    if (!current.rooms.some((r) => r.id === roomId)) return;
    this.setSnapshot({ ...current, rooms: current.rooms.filter((r) => r.id !== roomId) });
  }

  protected goOnline(): void {
    // The user id is known once connected (auth_success); the user channel follows it.
    this.#offState = this.#client.onStateChange(({ to }) => {
      if (to === 'connected') this.#attach();
    });
    this.#attach();
    if (this.#handle === undefined) this.refresh().catch(() => undefined); // connects, and so learns the user id
  }

  protected goOffline(): void {
    this.#generation += 1; // ignore answers after leaving
    this.#offState?.();
    this.#offState = undefined;
    this.#detach();
    this.#userId = '';
  }

  protected read(previous: RoomListSnapshot): RoomListSnapshot {
    return previous; // the list lives in the snapshot itself
  }

  #attach(): void {
    const id = this.#client.userId;
    if (!this.online || id === '' || id === this.#userId) return;
    this.#detach(); // another user signed in on this client
    this.#userId = id;
    const handle = this.#client.channel(`user:${id}`).subscribe();
    this.#handle = handle;
    const refetch = () => void this.refresh().catch(() => undefined);
    this.#channelOffs = [
      handle.on('room', (m) => {
        const room = (m.payload as { room?: ChatRoomInfo } | null)?.room;
        if (room) this.upsert(room);
      }),
      handle.on('room_removed', (m) => {
        const roomId = (m.payload as { roomId?: unknown } | null)?.roomId;
        if (typeof roomId === 'string') this.remove(roomId);
      }),
      handle.onSubscribed(refetch),
      handle.onGap(refetch),
    ];
  }

  #detach(): void {
    for (const off of this.#channelOffs) off();
    this.#channelOffs = [];
    this.#handle?.unsubscribe();
    this.#handle = undefined;
  }
}
