// A channel subscription as a store (store.ts): online, it subscribes the channel and passes every message to
// `onMessage`; the snapshot is whether the server has confirmed the subscription on the current connection.
// useRealtimeChannel renders it.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import type { TidewireError } from './errors.js';
import { LiveStore } from './store.js';
import type { ChannelMessage } from './types.js';

export interface ChannelStatusHandlers {
  /** Every message of the channel, in order. */
  onMessage?: (message: ChannelMessage) => void;
  /** The server ended the subscription (access lost): the snapshot turns false and stays so. */
  onError?: (error: TidewireError) => void;
}

export class ChannelStatus extends LiveStore<boolean> {
  protected readonly kind = 'channel subscription';
  readonly channel: string;
  #client: TidewireClient;
  #handlers: ChannelStatusHandlers;
  #handle: Channel | undefined;
  #offs: Array<() => void> = [];

  /** Subscribes with its first listener; unsubscribes a macrotask after its last (StrictMode's remount reuses it). */
  constructor(client: TidewireClient, channel: string, handlers: ChannelStatusHandlers) {
    super(false, () => 0);
    this.#client = client;
    this.channel = channel;
    this.#handlers = handlers;
  }

  protected goOnline(): void {
    const handle = this.#client.channel(this.channel).subscribe();
    this.#handle = handle;
    this.#offs = [
      handle.on('*', (message) => this.#handlers.onMessage?.(message)),
      handle.onSubscribed(() => this.setSnapshot(true)),
      handle.onError((error) => {
        this.setSnapshot(false);
        this.#handlers.onError?.(error);
      }),
      this.#client.onStateChange(({ to }) => {
        if (to !== 'connected') this.setSnapshot(false);
      }),
    ];
  }

  protected goOffline(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#handle?.unsubscribe();
    this.#handle = undefined;
    this.setSnapshot(false);
  }

  protected read(previous: boolean): boolean {
    return previous;
  }
}
