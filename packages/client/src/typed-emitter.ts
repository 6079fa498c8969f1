export type Listener<T> = (payload: T) => void;

/** A tiny typed event emitter: the same on Node and in browsers, no dependency. */
export class TypedEmitter<EventMap extends object> {
  private readonly listeners: { [K in keyof EventMap]?: Set<Listener<EventMap[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof EventMap>(event: K, listener: Listener<EventMap[K]>): () => void {
    let set = this.listeners[event];
    if (!set) {
      set = new Set();
      this.listeners[event] = set;
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof EventMap>(event: K, listener: Listener<EventMap[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof EventMap>(event: K, listener: Listener<EventMap[K]>): void {
    this.listeners[event]?.delete(listener);
  }

  emit<K extends keyof EventMap>(event: K, payload: EventMap[K]): void {
    for (const listener of [...(this.listeners[event] ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        // An application bug must not break delivery to other listeners or the socket's state.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  listenerCount(event: keyof EventMap): number {
    return this.listeners[event]?.size ?? 0;
  }
}
