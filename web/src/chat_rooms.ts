// The live list of this user's chat rooms (docs/PROTOCOL.md section 11): fetched with chat_list_rooms, then kept
// current by the server's events on the user's own channel `user:<userId>`: `room` (a room's summary changed:
// created, DM opened, joined, new message, unread count, read marker, members) and `room_removed` (left or
// deleted). Fetched again on every (re)subscription of that channel and on a gap (the server could not replay
// what was missed). There is no polling. The list itself lives in the state module (C++, src/state), like the
// other live state; this store keeps the fetch status and the channel wiring.
import type { Channel } from './channel.js';
import type { ChatRoomInfo } from './chat.js';
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import { loadStateModule, type WasmRoomList } from './state_module.js';
import { LiveStore } from './store.js';
import { ErrorCode } from './wire.js';

export interface RoomListSnapshot {
  /** Rooms by latest activity: those with messages newest first, then the others newest first. */
  rooms: ChatRoomInfo[];
  /** True until the first list arrived. */
  loading: boolean;
  /** The last fetch's error, if it failed. */
  error: TidewireError | null;
}

const EMPTY: RoomListSnapshot = { rooms: [], loading: true, error: null };

export class RoomList extends LiveStore<RoomListSnapshot> {
  protected readonly kind = 'room list';
  #client: TidewireClient;
  #userId = '';
  #handle: Channel | undefined;
  #channelOffs: Array<() => void> = [];
  #offState: (() => void) | undefined;
  #generation = 0;
  // The list itself lives in the state module (src/state/room_list_state.*); TS keeps the fetch status.
  #state: WasmRoomList | undefined;
  #loadingState: Promise<WasmRoomList> | undefined;
  #loading = true;
  #error: TidewireError | null = null;

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
    const current = () => mine === this.#generation && !this.closed;
    try {
      const rooms = await this.#client.chat.listRooms();
      const state = await this.#loadState();
      if (current()) {
        state.setRooms(JSON.stringify(rooms));
        this.#status(false, null);
      }
      return rooms;
    } catch (e) {
      if (current()) this.#status(false, e as TidewireError);
      throw e;
    }
  }

  /** Puts a room's summary in the list at once (e.g. the answer of createRoom(); the push follows). */
  upsert(room: ChatRoomInfo): void {
    if (this.closed || room === null || typeof room !== 'object' || typeof room.id !== 'string') return;
    const json = JSON.stringify(room);
    this.#apply((state) => state.upsert(json));
  }

  remove(roomId: string): void {
    if (this.closed || typeof roomId !== 'string') return;
    this.#apply((state) => state.remove(roomId));
  }

  /** Stops following the list for good and frees its memory in the state module. */
  override close(): void {
    super.close();
    this.#state?.delete();
    this.#state = undefined;
  }

  protected read(previous: RoomListSnapshot): RoomListSnapshot {
    const state = this.#state;
    const rooms = state ? (JSON.parse(state.rooms()) as ChatRoomInfo[]) : previous.rooms;
    return { rooms, loading: this.#loading, error: this.#error };
  }

  #status(loading: boolean, error: TidewireError | null): void {
    this.#loading = loading;
    this.#error = error;
    this.changed();
  }

  /** Runs `op` on the list now, or once the state module has loaded (in call order). */
  #apply(op: (state: WasmRoomList) => boolean): void {
    const apply = (state: WasmRoomList) => {
      if (!this.closed && op(state)) this.changed();
    };
    if (this.#state) apply(this.#state);
    else this.#loadState().then(apply, () => undefined);
  }

  #loadState(): Promise<WasmRoomList> {
    this.#loadingState ??= loadStateModule().then(
      (m) => {
        if (this.closed) throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: this room list was closed; create a new one');
        this.#state ??= m.roomList();
        return this.#state;
      },
      (e: unknown) => {
        this.#loadingState = undefined; // a later call retries
        throw e;
      },
    );
    return this.#loadingState;
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
