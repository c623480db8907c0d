import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { readTar } from '../tar/tar-reader';
import { TarEntryHeader } from '../tar/tar-header';
import { EstargzWriter, isReservedName } from './estargz-writer';

interface SpilledEntry {
  header: TarEntryHeader;
  offset: number;
}

/** Tar names compared as eStargz does: no leading "./" or "/", no trailing "/". */
export const cleanEntryName = (name: string): string =>
  name
    .replace(/^(\.\/|\/)+/, '')
    .replace(/^\.$/, '')
    .replace(/\/+$/, '');

/**
 * The order upstream's sortEntries gives: each prioritized file, preceded by its parent
 * directories and (for hard links) its link target, each entry once; names not in the layer
 * are reported back.
 */
export function prioritizedOrder(
  entries: TarEntryHeader[],
  prioritized: string[],
): { moved: number[]; missing: string[] } {
  const byName = new Map<string, number>();
  entries.forEach((e, i) => byName.set(cleanEntryName(e.name), i));
  const moved: number[] = [];
  const taken = new Set<number>();
  const missing: string[] = [];
  const move = (raw: string): boolean => {
    const name = cleanEntryName(raw);
    const i = byName.get(name);
    if (name === '') {
      if (i !== undefined && !taken.has(i)) {
        taken.add(i);
        moved.push(i);
      }
      return true;
    }
    if (i === undefined) return false;
    if (taken.has(i)) return true;
    const slash = name.lastIndexOf('/');
    if (!move(slash === -1 ? '' : name.slice(0, slash + 1))) return false;
    const e = entries[i];
    if (e.type === 'link' && !move(e.linkname ?? '')) return false;
    if (!taken.has(i)) {
      taken.add(i);
      moved.push(i);
    }
    return true;
  };
  for (const p of prioritized) {
    // Prefetch lists name paths in the image's filesystem; the layer stores them without the leading slash.
    if (!move(Buffer.from(p, 'utf8').toString('latin1'))) missing.push(p);
  }
  return { moved, missing };
}

/**
 * Writes a layer with prioritized files first and `.prefetch.landmark` after them. Reordering
 * needs random access, so the decompressed tar is spilled to a scratch file first (as upstream
 * does); memory stays flat.
 */
export async function writePrioritized(
  tar: Readable,
  writer: EstargzWriter,
  prioritized: string[],
  workDir: string,
): Promise<string[]> {
  const spill = join(workDir, `${randomUUID()}.tar`);
  const out = createWriteStream(spill);
  const entries: SpilledEntry[] = [];
  let offset = 0;
  try {
    for await (const { header, body } of readTar(tar)) {
      if (isReservedName(header.name)) continue;
      entries.push({ header, offset });
      for await (const chunk of body) {
        offset += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
    }
    out.end();
    await finished(out);
    const { moved, missing } = prioritizedOrder(
      entries.map((e) => e.header),
      prioritized,
    );
    const body = (e: SpilledEntry) =>
      e.header.type === 'file' && e.header.size > 0
        ? createReadStream(spill, { start: e.offset, end: e.offset + e.header.size - 1 })
        : undefined;
    for (const i of moved) await writer.writeEntry(entries[i].header, body(entries[i]));
    await writer.writePrefetchLandmark();
    const movedSet = new Set(moved);
    for (let i = 0; i < entries.length; i++)
      if (!movedSet.has(i)) await writer.writeEntry(entries[i].header, body(entries[i]));
    return missing;
  } finally {
    out.destroy();
    await rm(spill, { force: true });
  }
}
