// Presence on a channel (docs/PROTOCOL.md section 10): join with a status and info, see who is here. The member
// map lives in the wasm core (WasmPresence); this class feeds it and notifies listeners. It re-joins after
// every reconnect, so the member list survives network changes.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import type { WasmPresence } from './state_module.js';

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

export class Presence<Info extends Record<string, unknown> = Record<string, unknown>> {
  readonly channel: string;
  #client: TidewireClient;
  #handle: Channel;
  #state: WasmPresence | undefined;
  #status: PresenceStatus;
  #info: Info | undefined;
  #members: PresenceMember<Info>[] = [];
  #listeners = new Set<(members: PresenceMember<Info>[]) => void>();
  #unsubs: Array<() => void> = [];
  #closed = false;

  constructor(client: TidewireClient, channel: string, options: PresenceOptions<Info> = {}) {
    this.#client = client;
    this.channel = channel;
    this.#status = options.status ?? 'online';
    this.#info = options.info;
    this.#handle = client.channel(channel).subscribe();
    this.#start().catch(() => undefined); // a failed state-module load is reported on the client's error listeners
  }

  get members(): PresenceMember<Info>[] {
    return this.#members;
  }

  get onlineCount(): number {
    return this.#members.length;
  }

  /** Called with the member list whenever it changes. Returns the unsubscribe function. */
  onChange(listener: (members: PresenceMember<Info>[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Changes this user's status (and optionally info) for everyone on the channel. */
  async updateStatus(status: PresenceStatus, info?: Info): Promise<void> {
    this.#status = status;
    if (info !== undefined) this.#info = info;
    await this.#client.request('presence_update', { channel: this.channel, status, ...(info ? { info } : {}) });
  }

  /** Leaves the channel's presence and releases everything. */
  leave(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const u of this.#unsubs) u();
    if (this.#client.isConnected) this.#client.request('presence_leave', { channel: this.channel }).catch(() => undefined);
    this.#handle.unsubscribe();
    this.#state?.delete();
    this.#state = undefined;
    this.#listeners.clear();
  }

  async #start(): Promise<void> {
    const state = await this.#client._stateModule();
    if (this.#closed) return;
    this.#state = state.presence();
    this.#unsubs.push(
      this.#client._onPresenceDiff(this.channel, (json) => {
        if (!this.#state) return;
        // presence_state (sent on subscribe: who is there) replaces the map; presence_diff changes it.
        const message = JSON.parse(json) as { type?: string; members?: unknown };
        const applied =
          message.type === 'presence_state'
            ? this.#state.applyState(JSON.stringify(message.members ?? []))
            : this.#state.applyDiff(json);
        if (applied) this.#publish();
      }),
      this.#client._onSubscribed(this.channel, () => void this.#join()),
    );
  }

  async #join(): Promise<void> {
    try {
      const data = await this.#client.request<{ members?: unknown }>('presence_join', {
        channel: this.channel,
        status: this.#status,
        ...(this.#info ? { info: this.#info } : {}),
      });
      if (this.#closed || !this.#state) return;
      if (this.#state.applyState(JSON.stringify(data?.members ?? []))) this.#publish();
    } catch {
      // The connection dropped: the next subscription confirmation joins again.
    }
  }

  #publish(): void {
    if (!this.#state) return;
    this.#members = JSON.parse(this.#state.members()) as PresenceMember<Info>[];
    for (const l of [...this.#listeners]) l(this.#members);
  }
}
