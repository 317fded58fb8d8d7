import type { KeyState } from './write-plan.js';

/**
 * Record key → stored state (ordering of its latest change, deleted or not) of one file
 * group: the writer's source-order guard. A writer keeps one per file group it touched,
 * i.e. one entry per key of the table, for its whole life. So the states live in typed
 * arrays indexed by a slot, not as an object + BigInt per key: at millions of keys those
 * objects made every major GC mark millions more cells.
 */

const INITIAL_SLOTS = 1024;
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

export class FileGroupKeys {
  private readonly slots = new Map<string, number>();
  private orderings = new Float64Array(INITIAL_SLOTS);
  private deletedFlags = new Uint8Array(INITIAL_SLOTS);
  /** Orderings beyond ±(2^53 - 1), which a double cannot hold exactly, by slot (NaN in `orderings`). */
  private readonly wide = new Map<number, bigint>();

  get size(): number {
    return this.slots.size;
  }

  get(key: string): KeyState | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    return { ordering: this.orderingAt(slot), deleted: this.deletedFlags[slot] === 1 };
  }

  set(key: string, ordering: bigint, deleted: boolean): void {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.slots.size;
      if (slot === this.orderings.length) this.grow();
      this.slots.set(key, slot);
    }
    if (ordering >= -MAX_EXACT && ordering <= MAX_EXACT) {
      this.orderings[slot] = Number(ordering);
      if (this.wide.size > 0) this.wide.delete(slot); // almost always empty: skip the hash
    } else {
      this.orderings[slot] = Number.NaN;
      this.wide.set(slot, ordering);
    }
    this.deletedFlags[slot] = deleted ? 1 : 0;
  }

  /** An independent copy (a new file group starts from the keys its bucket placeholder collected). */
  clone(): FileGroupKeys {
    const out = new FileGroupKeys();
    for (const [key, slot] of this.slots) out.set(key, this.orderingAt(slot), this.deletedFlags[slot] === 1);
    return out;
  }

  private orderingAt(slot: number): bigint {
    const v = this.orderings[slot] as number;
    return Number.isNaN(v) ? (this.wide.get(slot) as bigint) : BigInt(v);
  }

  private grow(): void {
    const orderings = new Float64Array(this.orderings.length * 2);
    orderings.set(this.orderings);
    this.orderings = orderings;
    const flags = new Uint8Array(this.deletedFlags.length * 2);
    flags.set(this.deletedFlags);
    this.deletedFlags = flags;
  }
}
