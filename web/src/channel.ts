// A handle on one channel (manager style). Each handle holds at most one subscription; its listeners are
// removed when it unsubscribes. Several handles on the same name share one server subscription.
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import type { Gap, MessageHandler, SendOptions, SendResult } from './types.js';
import { ErrorCode } from './wire.js';

type ListenerToken = ReturnType<TidewireClient['_addListener']>;

export class Channel {
  readonly name: string;
  #client: TidewireClient;
  #subscribed = false;
  #listeners = new Set<ListenerToken>();

  constructor(client: TidewireClient, name: string) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: a channel needs a non-empty name');
    }
    this.#client = client;
    this.name = name;
  }

  /**
   * Subscribes this handle (idempotent). Returns the handle for chaining. After the server ended the
   * subscription (see onError), calling it again subscribes anew.
   */
  subscribe(): this {
    if (!this.#subscribed) {
      this.#client._acquire(this.name);
      this.#subscribed = true;
    } else {
      this.#client._resubscribe(this.name);
    }
    return this;
  }

  /** Unsubscribes this handle and removes its listeners. */
  unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#client._release(this.name, this.#listeners);
    this.#listeners.clear();
  }

  get isSubscribed(): boolean {
    return this.#subscribed;
  }

  /** Listens to `event` (`'*'` for every event). Subscribes the handle if needed. Returns `off`. */
  on<T = unknown>(event: string, handler: MessageHandler<T>): () => void {
    return this.#add(event, handler as MessageHandler<unknown>, false);
  }

  /** Like on(), for the next matching message only. */
  once<T = unknown>(event: string, handler: MessageHandler<T>): () => void {
    return this.#add(event, handler as MessageHandler<unknown>, true);
  }

  /** Removes listeners: one handler, every handler of an event, or all of this handle's. */
  off(event?: string, handler?: MessageHandler<never>): void {
    for (const l of [...this.#listeners]) {
      if (event !== undefined && l.event !== event) continue;
      if (handler !== undefined && l.handler !== handler) continue;
      this.#listeners.delete(l);
      this.#client._removeListener(this.name, l);
    }
  }

  /** Number of listeners on this channel (all handles), optionally for one event. */
  listenerCount(event?: string): number {
    return this.#client._listenerCount(this.name, event);
  }

  /** Publishes an event on this channel; resolves with the server's ack. */
  send<T>(event: string, payload: T, options?: SendOptions): Promise<SendResult> {
    return this.#client.send(this.name, event, payload, options);
  }

  /**
   * Called when, after a reconnect, the server could not replay what this channel missed (its history was
   * lost or too much was missed): refetch the channel's state. Subscribes the handle if needed.
   */
  onGap(listener: (gap: Gap) => void): () => void {
    this.subscribe();
    return this.#client._addGapListener(this.name, listener);
  }

  /**
   * Called every time the server confirms this channel's subscription: the first time and after every
   * reconnect (the place to (re)load state). Subscribes the handle if needed. Returns the unsubscribe function.
   */
  onSubscribed(listener: () => void): () => void {
    this.subscribe();
    return this.#client._onSubscribed(this.name, listener);
  }

  /**
   * Called with this channel's errors. When the server ends the subscription because access was lost, the
   * error's `code` is the reason (`room_left`, `room_deleted`, `access_revoked`; `details.channel` names the
   * channel): the channel stays unsubscribed, also across reconnects, until subscribe() is called again. The
   * same error also reaches client.onError. Subscribes the handle if needed. Returns the unsubscribe function.
   */
  onError(listener: (error: TidewireError) => void): () => void {
    this.subscribe();
    return this.#client._addErrorListener(this.name, listener);
  }

  /** Resolves when the server has confirmed the subscription. */
  whenSubscribed(): Promise<void> {
    if (!this.#subscribed) this.subscribe();
    return this.#client._whenSubscribed(this.name);
  }

  #add(event: string, handler: MessageHandler<unknown>, once: boolean): () => void {
    if (typeof event !== 'string' || event.length === 0) {
      throw new TidewireError(ErrorCode.invalidArgument, "tidewire: on(event, handler) needs an event name or '*'");
    }
    if (typeof handler !== 'function') {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: on(event, handler) needs a handler function');
    }
    this.subscribe();
    const token = this.#client._addListener(this.name, event, handler, once);
    this.#listeners.add(token);
    return () => {
      if (this.#listeners.delete(token)) this.#client._removeListener(this.name, token);
    };
  }
}
