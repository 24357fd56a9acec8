/**
 * What a tracked task is made of: two V8 heap snapshots (before and after tracking n tasks), their
 * self sizes summed per object kind, and the difference divided by n. The object whose properties are a
 * dictionary (the costliest thing a task can hold) is named by its own property names.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** One kind of object in the difference: bytes and objects per task. */
export interface HeapShare {
  readonly kind: string;
  readonly bytesPerTask: number;
  readonly objectsPerTask: number;
}

/** Writes a snapshot and sums it per kind; the file is removed right after. */
export function heapCensus(label: string): Map<string, { count: number; size: number }> {
  const file = v8.writeHeapSnapshot(join(tmpdir(), `taskguard-bench-${process.pid}-${label}.heapsnapshot`));
  try {
    const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    const meta = snap.snapshot.meta;
    const fields = meta.node_fields.length;
    const edgeFields = meta.edge_fields.length;
    const typeAt = meta.node_fields.indexOf('type');
    const nameAt = meta.node_fields.indexOf('name');
    const sizeAt = meta.node_fields.indexOf('self_size');
    const edgeCountAt = meta.node_fields.indexOf('edge_count');
    const edgeTypeAt = meta.edge_fields.indexOf('type');
    const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
    const edgeToAt = meta.edge_fields.indexOf('to_node');
    const types = meta.node_types[0];
    const edgeTypes = meta.edge_types[0];
    const census = new Map<string, { count: number; size: number }>();
    let edge = 0;
    for (let i = 0; i < snap.nodes.length; i += fields) {
      const type = types[snap.nodes[i + typeAt]!]!;
      let name = snap.strings[snap.nodes[i + nameAt]!]!;
      if (type.includes('string')) name = '(string)';
      else if (type === 'number') name = '(heap number)';
      const count = snap.nodes[i + edgeCountAt]!;
      // A plain object with a dictionary: name it by its properties, so the report says which one it is.
      const props: string[] = [];
      let dictionary = 0;
      for (let k = 0; k < count; k++, edge += edgeFields) {
        const edgeType = edgeTypes[snap.edges[edge + edgeTypeAt]!]!;
        if (edgeType === 'property') props.push(snap.strings[snap.edges[edge + edgeNameAt]!]!);
        const to = snap.edges[edge + edgeToAt]!;
        if (edgeType === 'internal' && snap.strings[snap.edges[edge + edgeNameAt]!] === 'properties' && snap.nodes[to + sizeAt]! > 200) {
          dictionary = snap.nodes[to + sizeAt]!;
        }
      }
      const kind = dictionary > 0 ? `${type} ${name} {${props.filter((p) => p !== '__proto__').join(', ')}} (+${dictionary} B property dictionary)` : `${type} ${name}`;
      const entry = census.get(kind) ?? { count: 0, size: 0 };
      entry.count++;
      entry.size += snap.nodes[i + sizeAt]!;
      census.set(kind, entry);
    }
    return census;
  } finally {
    rmSync(file, { force: true });
  }
}

/** The kinds that grew by more than 4 bytes per task, largest first. */
export function heapDiff(before: Map<string, { count: number; size: number }>, after: Map<string, { count: number; size: number }>, n: number): HeapShare[] {
  const shares: HeapShare[] = [];
  for (const [kind, entry] of after) {
    const base = before.get(kind) ?? { count: 0, size: 0 };
    const bytes = (entry.size - base.size) / n;
    if (bytes > 4) shares.push({ kind, bytesPerTask: bytes, objectsPerTask: (entry.count - base.count) / n });
  }
  return shares.sort((a, b) => b.bytesPerTask - a.bytesPerTask);
}
