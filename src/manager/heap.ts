/** An entry of a {@link MinHeap}: ordered by `at`, then by insertion. */
export interface HeapEntry<T> {
  readonly at: number;
  readonly seq: number;
  readonly value: T;
}

/** A binary min-heap on `at` (ties broken by insertion order). O(log n) push and pop. */
export class MinHeap<T> {
  readonly #items: HeapEntry<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  peek(): HeapEntry<T> | undefined {
    return this.#items[0];
  }

  push(at: number, value: T): void {
    const items = this.#items;
    items.push({ at, seq: this.#seq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): HeapEntry<T> | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    this.#siftDown(0);
    return top;
  }

  clear(): void {
    this.#items.length = 0;
  }

  /** Keeps only the entries that pass `keep`, in O(n). */
  retain(keep: (value: T) => boolean): void {
    const items = this.#items;
    let kept = 0;
    for (const item of items) if (keep(item.value)) items[kept++] = item;
    items.length = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftDown(start: number): void {
    const items = this.#items;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && less(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && less(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === i) return;
      [items[i], items[smallest]] = [items[smallest]!, items[i]!];
      i = smallest;
    }
  }
}

function less<T>(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
