/**
 * The last `capacity` notification ids, least recently seen evicted first. Duplicates only come
 * from a catch-up overlapping live delivery, so a bounded window is enough and memory stays flat.
 */
export class RecentIds {
  // A Set iterates in insertion order: the first entry is the least recently seen.
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Remembers `id`; true when it was not seen before (deliver it), false for a duplicate. */
  add(id: string): boolean {
    if (this.ids.has(id)) {
      this.ids.delete(id);
      this.ids.add(id);
      return false;
    }
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
