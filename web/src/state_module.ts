// The state containers' wasm module (tidewire_state.wasm: presence members, data-sync collections, chat rooms, the room list,
// C++ in src/state over bindings/state_bindings.cpp), loaded once, on first use: apps that only use channels
// never download it. It is a standalone wasm without Emscripten glue: its only imports are a memory-growth
// notice and proc_exit, and the classes below wrap its C exports. Strings go in as UTF-8 in one malloc'd block per
// call and come back as NUL-terminated UTF-8, valid until the next call that returns text (decoded at once).
import { readWasmInNode } from './module.js';

interface StateExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  tw_live_objects(): number;
  [name: `tw_${string}`]: (...args: number[]) => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The instantiated module: its exports and views of its memory. */
class StateMemory {
  #heap: Uint8Array;

  constructor(readonly exports: StateExports) {
    this.#heap = new Uint8Array(exports.memory.buffer);
  }

  /** The memory as bytes (a new view after the memory grew). */
  heap(): Uint8Array {
    if (this.#heap.byteLength === 0 || this.#heap.buffer !== this.exports.memory.buffer) {
      this.#heap = new Uint8Array(this.exports.memory.buffer);
    }
    return this.#heap;
  }

  /** NUL-terminated UTF-8 at ptr → string. */
  text(ptr: number): string {
    ptr >>>= 0;
    if (ptr === 0) return '';
    const heap = this.heap();
    const end = heap.indexOf(0, ptr);
    return decoder.decode(heap.subarray(ptr, end === -1 ? heap.length : end));
  }

  /** Calls fn(ptr1, len1, ptr2, len2, …) with each string copied into wasm memory, then frees the block. */
  with<R>(values: string[], fn: (...args: number[]) => R): R {
    let cap = 1;
    for (const v of values) cap += v.length * 3;
    const base = this.exports.malloc(cap);
    if (base === 0) throw new Error(`tidewire: the state module is out of memory (${cap} bytes); use smaller items`);
    try {
      const heap = this.heap();
      const args: number[] = [];
      let at = base;
      for (const v of values) {
        const len = encoder.encodeInto(v, heap.subarray(at, at + v.length * 3)).written;
        args.push(at, len);
        at += len;
      }
      return fn(...args);
    } finally {
      this.exports.free(base);
    }
  }
}

/** What every container shares: its handle in wasm memory, its exports (`tw_<prefix>_…`) and delete(). */
abstract class StateContainer {
  protected handle: number;

  constructor(
    protected readonly m: StateMemory,
    private readonly prefix: string,
    private readonly kind: string,
    ...newArgs: number[]
  ) {
    const handle = m.exports[`tw_${prefix}_new`](...newArgs);
    if (handle === 0) throw new Error(`tidewire: the state module could not create a ${kind} (out of memory)`);
    this.handle = handle;
  }

  /** The handle, or an Error saying the container was deleted. */
  protected h(): number {
    if (this.handle === 0) throw new Error(`tidewire: this ${this.kind} was deleted; create a new one`);
    return this.handle;
  }

  /** Passes JSON text to export `tw_<prefix>_<fn>(handle, ptr, len)`; true when it was JSON and applied. */
  protected apply(fn: string, json: string): boolean {
    const h = this.h();
    return this.m.with([json], (p, n) => this.m.exports[`tw_${this.prefix}_${fn}`](h, p, n) !== 0);
  }

  protected call(fn: string, ...args: number[]): number {
    return this.m.exports[`tw_${this.prefix}_${fn}`](this.h(), ...args);
  }

  /** Frees the wasm memory; later calls throw, a second delete() does nothing. */
  delete(): void {
    if (this.handle !== 0) this.m.exports[`tw_${this.prefix}_delete`](this.handle);
    this.handle = 0;
  }
}

/** A channel's presence members, from a full state and diffs (JSON text in and out). */
export class WasmPresence extends StateContainer {
  constructor(m: StateMemory) {
    super(m, 'presence', 'WasmPresence');
  }
  applyState(membersJson: string): boolean {
    return this.apply('apply_state', membersJson);
  }
  applyDiff(diffJson: string): boolean {
    return this.apply('apply_diff', diffJson);
  }
  /** A presence_state ({members}: replaces the map) or presence_diff message, as the server's text. */
  applyMessage(messageJson: string): boolean {
    return this.apply('apply_message', messageJson);
  }
  /** JSON array of {userId, status, info, joinedAt, connections}. */
  members(): string {
    return this.m.text(this.call('members'));
  }
  onlineCount(): number {
    return this.call('online_count');
  }
  hasState(): boolean {
    return this.call('has_state') !== 0;
  }
  clear(): void {
    this.call('clear');
  }
  /** A new subscription: forgets the old one's diffs; the next full state replaces the members (shown until then). */
  resubscribed(): void {
    this.call('resubscribed');
  }
}

/** A data-sync collection with optimistic operations keyed by request ref. */
export class WasmSyncCollection extends StateContainer {
  constructor(m: StateMemory) {
    super(m, 'sync', 'WasmSyncCollection');
  }
  applySnapshot(itemsJson: string): boolean {
    return this.apply('apply_snapshot', itemsJson);
  }
  applyUpsert(itemJson: string): boolean {
    return this.apply('apply_upsert', itemJson);
  }
  applyDelete(id: string): void {
    this.apply('apply_delete', id);
  }
  /** Returns the temporary id of the optimistic item ('' when dataJson is not JSON). */
  optimisticInsert(op: number, dataJson: string): string {
    const h = this.h();
    return this.m.with([dataJson], (p, n) => this.m.text(this.m.exports.tw_sync_optimistic_insert(h, op, p, n)));
  }
  optimisticUpdate(op: number, id: string, patchJson: string): boolean {
    const h = this.h();
    return this.m.with([id, patchJson], (ip, iN, p, n) => this.m.exports.tw_sync_optimistic_update(h, op, ip, iN, p, n) !== 0);
  }
  optimisticDelete(op: number, id: string): boolean {
    const h = this.h();
    return this.m.with([id], (p, n) => this.m.exports.tw_sync_optimistic_delete(h, op, p, n) !== 0);
  }
  confirm(op: number, replyDataJson: string): void {
    const h = this.h();
    this.m.with([replyDataJson], (p, n) => this.m.exports.tw_sync_confirm(h, op, p, n));
  }
  /**
   * `currentJson`: the stored item of a version conflict, or ''. True when the refused change is already what
   * is stored (an update whose every field equals the stored one): nothing to report.
   */
  reject(op: number, currentJson: string): boolean {
    const h = this.h();
    return this.m.with([currentJson], (p, n) => this.m.exports.tw_sync_reject(h, op, p, n) !== 0);
  }
  /** JSON array of {id, version, data, pending?}. */
  items(): string {
    return this.m.text(this.call('items'));
  }
  pendingCount(): number {
    return this.call('pending_count');
  }
  versionOf(id: string): number {
    const h = this.h();
    return this.m.with([id], (p, n) => this.m.exports.tw_sync_version_of(h, p, n));
  }
}

/** One chat room: messages with paging and resume, own pending messages, reactions, participants, typing users that expire. */
export class WasmChatRoom extends StateContainer {
  constructor(m: StateMemory, typingTtlMs: number) {
    super(m, 'chat', 'WasmChatRoom', typingTtlMs);
  }
  applyHistory(dataJson: string): boolean {
    return this.apply('apply_history', dataJson);
  }
  /** A chat_history page fetched with `after`: merges newer messages; hasMore() (older pages) is unchanged. */
  applyNewer(dataJson: string): boolean {
    return this.apply('apply_newer', dataJson);
  }
  applyMessage(messageJson: string): boolean {
    return this.apply('apply_message', messageJson);
  }
  /** An own message before the server stored it, as shown ({id: 'pending-…', clientId, senderId, text, …}). */
  addPending(messageJson: string): boolean {
    return this.apply('add_pending', messageJson);
  }
  /** Marks it failed with `error`, or pending again (retrying) when `error` is ''. */
  markPending(clientId: string, error: string): boolean {
    const h = this.h();
    return this.m.with([clientId, error], (ip, iN, p, n) => this.m.exports.tw_chat_mark_pending(h, ip, iN, p, n) !== 0);
  }
  /** Removes it: confirmed by the server's message (JSON; added unless already here), or discarded with ''. */
  settlePending(clientId: string, messageJson: string): boolean {
    const h = this.h();
    return this.m.with([clientId, messageJson], (ip, iN, p, n) => this.m.exports.tw_chat_settle_pending(h, ip, iN, p, n) !== 0);
  }
  /** A JSON array of user ids. */
  setParticipants(idsJson: string): boolean {
    return this.apply('set_participants', idsJson);
  }
  /** A `member_joined` / `member_left` event's payload ({userId}) at `atMs`. */
  applyMember(eventJson: string, joined: boolean, atMs: number): boolean {
    const h = this.h();
    return this.m.with([eventJson], (p, n) => this.m.exports.tw_chat_apply_member(h, p, n, joined ? 1 : 0, atMs) !== 0);
  }
  /** JSON array of user ids, sorted. */
  participants(): string {
    return this.m.text(this.call('participants'));
  }
  /** JSON array of {userId, joined, at}, oldest first. */
  memberEvents(): string {
    return this.m.text(this.call('member_events'));
  }
  applyReaction(eventJson: string): boolean {
    return this.apply('apply_reaction', eventJson);
  }
  applyTyping(eventJson: string, nowMs: number): boolean {
    const h = this.h();
    return this.m.with([eventJson], (p, n) => this.m.exports.tw_chat_apply_typing(h, p, n, nowMs) !== 0);
  }
  messages(): string {
    return this.m.text(this.call('messages'));
  }
  messageCount(): number {
    return this.call('message_count');
  }
  hasMore(): boolean {
    return this.call('has_more') !== 0;
  }
  oldestId(): string {
    return this.m.text(this.call('oldest_id'));
  }
  /** The newest confirmed message's id ('' when none): where a resume starts. */
  newestId(): string {
    return this.m.text(this.call('newest_id'));
  }
  /** JSON array of user ids. */
  typingUsers(nowMs: number): string {
    return this.m.text(this.call('typing_users', nowMs));
  }
  /** -1 when nobody is typing. */
  nextTypingExpiry(): number {
    return this.call('next_typing_expiry');
  }
}

/** This user's chat rooms in list order (docs/PROTOCOL.md section 11, "Room list"). */
export class WasmRoomList extends StateContainer {
  constructor(m: StateMemory) {
    super(m, 'rooms', 'WasmRoomList');
  }
  /** A chat_list_rooms answer (an array of summaries, or {rooms}): replaces the list. */
  setRooms(json: string): boolean {
    return this.apply('set_rooms', json);
  }
  /** A room summary (a `room` event's room, or an RPC's bare room: keeps the summary fields listed). */
  upsert(roomJson: string): boolean {
    return this.apply('upsert', roomJson);
  }
  remove(roomId: string): boolean {
    return this.apply('remove', roomId);
  }
  /** JSON array of the room summaries, in list order. */
  rooms(): string {
    return this.m.text(this.call('rooms'));
  }
}

/** The loaded state module: factories for its containers. */
export interface StateModule {
  presence(): WasmPresence;
  syncCollection(): WasmSyncCollection;
  chatRoom(typingTtlMs: number): WasmChatRoom;
  roomList(): WasmRoomList;
  /** Diagnostics: containers alive in the module's memory (not yet deleted). */
  liveObjects(): number;
}

let loading: Promise<StateModule> | undefined;

async function instantiate(): Promise<StateExports> {
  // The literal `new URL('…', import.meta.url)` lets Vite and esbuild find and emit the .wasm asset.
  const url = new URL('./tidewire_state.wasm', import.meta.url);
  const imports = {
    env: {
      emscripten_notify_memory_growth: () => undefined, // views are re-made on use (StateMemory.heap)
    },
    wasi_snapshot_preview1: {
      proc_exit: (code: number) => {
        throw new Error(`tidewire: the state module stopped (exit ${code}); reload the page`);
      },
    },
  };
  let bytes: BufferSource | undefined = readWasmInNode(url);
  if (bytes === undefined) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${url.href}`);
    bytes = await response.arrayBuffer();
  }
  const source = await WebAssembly.instantiate(bytes, imports);
  const exports = source.instance.exports as unknown as StateExports;
  exports._initialize();
  return exports;
}

/** Resolves to the shared state module; the first call starts loading it. A failed load may be retried. */
export function loadStateModule(): Promise<StateModule> {
  if (loading === undefined) {
    loading = instantiate().then((exports) => {
      const m = new StateMemory(exports);
      return {
        presence: () => new WasmPresence(m),
        syncCollection: () => new WasmSyncCollection(m),
        chatRoom: (typingTtlMs) => new WasmChatRoom(m, typingTtlMs),
        roomList: () => new WasmRoomList(m),
        liveObjects: () => exports.tw_live_objects(),
      };
    });
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
