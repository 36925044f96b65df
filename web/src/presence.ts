// Presence on a channel (docs/PROTOCOL.md section 10): join with a status and info, see who is here. A store
// (store.ts): the member map lives in the state module (WasmPresence); the snapshot is the member list. It joins
// on every (re)subscription, so the list survives network changes.
import type { Channel } from './channel.js';
import { ChannelStateStore } from './channel_store.js';
import type { TidewireClient } from './client.js';
import type { StateModule, WasmPresence } from './state_module.js';

export type PresenceStatus = 'online' | 'away' | 'busy';

export interface PresenceMember<Info = Record<string, unknown>> {
  userId: string;
  status: PresenceStatus;
  info: Info;
  joinedAt: number;
  connections: number;
}

export interface PresenceOptions<Info> {
  status?: PresenceStatus;
  info?: Info;
}

const NO_MEMBERS: never[] = [];

export class Presence<Info extends Record<string, unknown> = Record<string, unknown>> extends ChannelStateStore<
  PresenceMember<Info>[],
  WasmPresence
> {
  protected readonly kind = 'presence';
  #status: PresenceStatus;
  #info: Info | undefined;
  #joined = false; // the server has this user's presence on the current subscription

  /**
   * `eager` (default true): joins now and stays until leave(). False: joins when the first listener subscribes
   * and leaves a grace period after the last (how the React hook uses it; creating it has no side effects).
   */
  constructor(client: TidewireClient, channel: string, options: PresenceOptions<Info> = {}, eager = true) {
    super(client, channel, NO_MEMBERS);
    this.#status = options.status ?? 'online';
    this.#info = options.info;
    if (eager) this.retain(); // released by leave()
  }

  get members(): PresenceMember<Info>[] {
    return this.getSnapshot();
  }

  get onlineCount(): number {
    return this.getSnapshot().length;
  }

  /** Called with the member list whenever it changes (and brings the store online). Returns unsubscribe. */
  onChange(listener: (members: PresenceMember<Info>[]) => void): () => void {
    let last = this.getSnapshot();
    return this.subscribe(() => {
      const members = this.getSnapshot();
      if (members === last) return; // the store was told of a change that left the list as it was
      last = members;
      listener(members);
    });
  }

  /**
   * Changes this user's status (and optionally info) for everyone on the channel. Before the join, the join
   * carries it; while offline, it is sent on reconnect.
   */
  async updateStatus(status: PresenceStatus, info?: Info): Promise<void> {
    this.#status = status;
    if (info !== undefined) this.#info = info;
    if (!this.#joined) return; // the join (under way or to come) sends the new values
    const release = this.retain();
    try {
      await this.client.request('presence_update', { channel: this.channel, ...this.#fields() });
    } finally {
      release();
    }
  }

  /** Leaves the channel's presence and releases everything. */
  leave(): void {
    this.close();
  }

  protected createState(module: StateModule): WasmPresence {
    return module.presence();
  }

  protected wire(handle: Channel, state: WasmPresence): Array<() => void> {
    const offState = this.client.onStateChange(({ to }) => {
      if (to !== 'connected') this.#joined = false;
    });
    return [
      // presence_state (on subscribe: who is there) or presence_diff, as the server's text: parsed once, in wasm.
      this.client._onPresenceDiff(this.channel, (json) => {
        if (state.applyMessage(json)) this.changed();
      }),
      handle.onSubscribed(() => {
        state.resubscribed(); // the diffs of an earlier connection are not applied again over the new state
        void this.#join(state);
      }),
      offState,
      () => {
        if (this.#joined && this.client.isConnected) {
          this.client.request('presence_leave', { channel: this.channel }).catch(() => undefined);
        }
        this.#joined = false;
      },
    ];
  }

  protected reset(): void {
    this.setSnapshot(NO_MEMBERS);
  }

  protected read(previous: PresenceMember<Info>[]): PresenceMember<Info>[] {
    const state = this.state;
    if (!state) return previous;
    const members = JSON.parse(state.members()) as PresenceMember<Info>[];
    // Still nobody (a new state before presence_state arrives): the same snapshot, so no one sees a change.
    return members.length === 0 && previous.length === 0 ? previous : members;
  }

  #fields(): Record<string, unknown> {
    return { status: this.#status, ...(this.#info ? { info: this.#info } : {}) };
  }

  async #join(state: WasmPresence): Promise<void> {
    const sent = JSON.stringify(this.#fields());
    try {
      const data = await this.client.request<{ members?: unknown }>('presence_join', { channel: this.channel, ...this.#fields() });
      if (this.state !== state) return;
      this.#joined = true;
      if (state.applyState(JSON.stringify(data?.members ?? []))) this.changed();
      // Changed while the join was on its way: send what is current.
      if (JSON.stringify(this.#fields()) !== sent) await this.updateStatus(this.#status);
    } catch {
      // The connection dropped: the next subscription confirmation joins again.
    }
  }
}
