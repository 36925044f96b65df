// The lifecycle every channel-backed state store shares (presence, sync collections, chat rooms), written once:
// online, it subscribes its channel, loads the state module, creates its container there and wires the
// channel's events to it; offline, it unwires, unsubscribes and deletes the container. A generation counter
// drops a load that finishes after the store went offline. Subclasses say what the events mean.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import type { StateModule } from './state_module.js';
import { TidewireError } from './errors.js';
import { LiveStore } from './store.js';
import { ErrorCode } from './wire.js';

export abstract class ChannelStateStore<S, W extends { delete(): void }> extends LiveStore<S> {
  readonly channel: string;
  protected readonly client: TidewireClient;
  #handle: Channel | undefined;
  #state: W | undefined;
  #ready: Promise<W> | undefined;
  #offs: Array<() => void> = [];
  #generation = 0;

  protected constructor(client: TidewireClient, channel: string, initial: S) {
    super(initial, () => client.graceMs);
    this.client = client;
    this.channel = channel;
  }

  /** Creates this store's container in the state module. */
  protected abstract createState(module: StateModule): W;
  /** Wires the channel's events to `state`; returns what undoes it. Runs once per time online. */
  protected abstract wire(handle: Channel, state: W): Array<() => void>;
  /** After going offline: forget what the container held (the snapshot to show until online again). */
  protected abstract reset(): void;

  /** The container, while online and loaded. */
  protected get state(): W | undefined {
    return this.#state;
  }

  /**
   * Runs an action with the container, holding the store online until it settles: an action called before
   * anything subscribed joins the channel, and its request waits in the client's outbox until connected.
   */
  protected async act<R>(fn: (state: W) => Promise<R> | R): Promise<R> {
    const release = this.retain();
    try {
      return await fn(await this.#ready!);
    } finally {
      release();
    }
  }

  protected goOnline(): void {
    const generation = ++this.#generation;
    const handle = this.client.channel(this.channel).subscribe();
    this.#handle = handle;
    this.#ready = this.client._stateModule().then((module) => {
      if (generation !== this.#generation) {
        throw new TidewireError(ErrorCode.invalidArgument, `tidewire: this ${this.kind} went offline while loading`);
      }
      const state = this.createState(module);
      this.#state = state;
      this.#offs = this.wire(handle, state);
      this.changed();
      return state;
    });
    this.#ready.catch(() => undefined); // reported on the client's error listeners; actions awaiting it reject
  }

  protected goOffline(): void {
    this.#generation += 1;
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#handle?.unsubscribe();
    this.#handle = undefined;
    this.#state?.delete();
    this.#state = undefined;
    this.#ready = undefined;
    this.reset();
  }
}
