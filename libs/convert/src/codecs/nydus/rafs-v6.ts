import { BLOCK, BlobFeature, Compressor, Digester, alignUp } from './blob-format';
import { NydusBlob, NydusOptions } from './types';
import { FsTree, Ino, NodeKind, Xattrs } from './fs-tree';
import {
  DEVT_SLOT_OFFSET,
  EROFS_MAGIC,
  EXT_SUPER_OFFSET,
  ErofsDeviceSlot,
  ErofsDirent,
  ErofsInodeChunkIndex,
  ErofsInodeExtended,
  ErofsSuperBlock,
  ErofsXattrEntry,
  ErofsXattrIbodyHeader,
  RafsChunkInfo,
  RafsV6Blob,
  RafsV6SuperBlockExt,
  SUPER_OFFSET,
} from './rafs-v6-layout';

const FEATURE_COMPAT_RAFS_V6 = 0x4000_0000;
const FEATURE_INCOMPAT_CHUNKED_FILE = 0x4;
const FEATURE_INCOMPAT_DEVICE_TABLE = 0x8;
const INODE_SIZE = ErofsInodeExtended.size;
const LAYOUT_FLAT_PLAIN = 0;
const LAYOUT_FLAT_INLINE = 2;
const LAYOUT_CHUNK_BASED = 4;
const CHUNK_FORMAT_INDEXES = 0x0020;
const DIRENT_SIZE = ErofsDirent.size;
const NULL_ADDR = 0xffffffff;

/** RAFS superblock flags (same bits as v5). */
const RafsFlag = {
  COMPRESSION_NONE: 0x1,
  COMPRESSION_LZ4: 0x2,
  HASH_BLAKE3: 0x4,
  HASH_SHA256: 0x8,
  EXPLICIT_UID_GID: 0x10,
  HAS_XATTR: 0x20,
  COMPRESSION_ZSTD: 0x80,
  INLINED_CHUNK_DIGEST: 0x100,
};

const FILE_TYPE: Record<NodeKind, number> = { file: 1, dir: 2, chardev: 3, blockdev: 4, fifo: 5, symlink: 7 };

/** EROFS xattr name prefixes (index, prefix). */
const XATTR_PREFIXES: [number, string][] = [
  [2, 'system.posix_acl_access'],
  [3, 'system.posix_acl_default'],
  [1, 'user.'],
  [4, 'trusted.'],
  [6, 'security.'],
];

const NO_XATTR_BODY = Buffer.alloc(0);

function encodeXattrs(xattrs: Xattrs): Buffer {
  if (xattrs.size === 0) return NO_XATTR_BODY;
  // The ibody header stays zero: no shared xattrs, no name filter.
  const parts: Buffer[] = [Buffer.alloc(ErofsXattrIbodyHeader.size)];
  for (const [name, value] of [...xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const prefix = XATTR_PREFIXES.find(([, p]) => name.startsWith(p));
    // Linux has no xattr outside these namespaces, and nydusd refuses name index 0.
    if (!prefix) continue;
    const suffix = Buffer.from(name.slice(prefix[1].length), 'latin1');
    const head = Buffer.alloc(ErofsXattrEntry.size);
    ErofsXattrEntry.write(head, 0, { nameLen: suffix.length, nameIndex: prefix[0], valueSize: value.length });
    const entry = Buffer.concat([head, suffix, value]);
    parts.push(entry, Buffer.alloc(alignUp(entry.length, 4) - entry.length));
  }
  return parts.length > 1 ? Buffer.concat(parts) : Buffer.alloc(0);
}

/** Linux new_encode_dev. */
const encodeDev = (major: number, minor: number) => ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;

/**
 * Names are latin1 strings of their raw bytes: one code unit per byte, so comparing code units
 * is comparing bytes, without a Buffer per name.
 */
const byNameBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A directory's entries in name-byte order: `.`, `..` and its children (the dots first on a tie, as a stable sort leaves them). */
function direntsOf(
  dir: Ino,
  parent: Ino,
  entries: ReadonlyMap<string, Ino>,
  children: string[],
): { names: string[]; inodes: Ino[] } {
  const names: string[] = [];
  const inodes: Ino[] = [];
  const dots: [string, Ino][] = [
    ['.', dir],
    ['..', parent],
  ];
  let d = 0;
  const dotsUpTo = (name?: string) => {
    for (; d < dots.length && (name === undefined || byNameBytes(dots[d][0], name) <= 0); d++) {
      names.push(dots[d][0]);
      inodes.push(dots[d][1]);
    }
  };
  for (const name of children) {
    dotsUpTo(name);
    names.push(name);
    inodes.push(entries.get(name)!);
  }
  dotsUpTo();
  return { names, inodes };
}

/**
 * Directory blocks: 12-byte dirents then their names, as many as fit per 4 KiB block; every
 * block but the last is whole. Calls `block` with each block's first entry and count; returns
 * the data's length, which depends on the names alone.
 */
function packDirents(names: string[], block?: (index: number, first: number, count: number) => void): number {
  let length = 0;
  for (let i = 0, index = 0; i < names.length; index++) {
    let k = 0;
    let used = 0;
    while (i + k < names.length && used + DIRENT_SIZE + names[i + k].length <= BLOCK) {
      used += DIRENT_SIZE + names[i + k].length;
      k++;
    }
    if (k === 0) throw new Error(`file name too long: ${names[i].length} bytes`);
    block?.(index, i, k);
    i += k;
    length += i < names.length ? BLOCK : used;
  }
  return length;
}

/** Device slots are mapped at 2 MiB boundaries past the bootstrap (builder/src/core/v6.rs V6_BLOCK_SEG_ALIGNMENT). */
const DEVICE_SEGMENT_ALIGN = 2 << 20;

/**
 * Builds a RAFS v6 bootstrap from a tree and its layer blobs. Merged (an image's bootstrap):
 * only blobs some chunk lives in get a device slot, and INLINED_FS_META is cleared, as
 * `nydus-image merge` writes it. Otherwise (a layer's own bootstrap) the blobs are kept as given.
 */
export function writeRafsV6(tree: FsTree, layerBlobs: NydusBlob[], opts: NydusOptions, merged = true): Buffer {
  const blobs = merged ? layerBlobs.filter((b) => b.chunks.length > 0) : layerBlobs;
  // Chunk references carry the layer index; the bootstrap's device numbering is the table position.
  const tableIndex = new Map(blobs.map((b, i) => [b.index, i]));
  const slotOf = (layerIndex: number): number => {
    const i = tableIndex.get(layerIndex);
    if (i === undefined) throw new Error(`a chunk refers to layer ${layerIndex}, whose blob is not in the bootstrap`);
    return i;
  };
  const blobOf = new Map(blobs.map((b) => [b.index, b]));
  // 1. Inodes in breadth-first order (root first), hard links counted once. What the layout
  // needs per inode sits in arrays by that order: an object per inode was most of what a
  // bootstrap of 70,000 files allocated.
  const t = tree.inodes;
  const order: Ino[] = [];
  const parents: Ino[] = [];
  const kinds: NodeKind[] = [];
  /** Position in `order` by inode number, -1 until visited. */
  const indexOf = new Int32Array(t.count).fill(-1);
  const nlinks: number[] = [];
  const xattrBodies: Buffer[] = [];
  /** Directories: their children's names in name-byte order. */
  const childNames = new Map<number, string[]>();
  const queue: number[] = [];
  const visit = (inode: Ino, parent: Ino) => {
    const known = indexOf[inode];
    if (known >= 0) {
      nlinks[known]++;
      return;
    }
    const i = order.length;
    indexOf[inode] = i;
    order.push(inode);
    parents.push(parent);
    kinds.push(t.kind(inode));
    nlinks.push(1);
    xattrBodies.push(encodeXattrs(t.xattrsOf(inode)));
    if (kinds[i] === 'dir') queue.push(i);
  };
  visit(tree.root, tree.root);
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    const entries = tree.childrenOf(order[i])!;
    const names = [...entries.keys()].sort(byNameBytes);
    childNames.set(i, names);
    for (const name of names) visit(entries.get(name)!, order[i]);
  }
  const count = order.length;
  for (const [i, names] of childNames) {
    const entries = tree.childrenOf(order[i])!;
    nlinks[i] = 2 + names.reduce((n, name) => n + (t.isDir(entries.get(name)!) ? 1 : 0), 0);
  }

  // 2. Fixed area: superblocks, device slots, blob table, chunk table.
  const devSlotsEnd = DEVT_SLOT_OFFSET + ErofsDeviceSlot.size * blobs.length;
  const blobTableOffset = alignUp(devSlotsEnd, BLOCK);
  const blobTableSize = RafsV6Blob.size * blobs.length;
  // The prefetch table (u32 nids, one slot per pattern) sits right after the blob table, as nydus-image places it.
  const patterns = opts.prefetchPatterns ?? [];
  const prefetchTableOffset = blobTableOffset + blobTableSize;
  const prefetchTableSize = blobs.length > 0 ? 4 * patterns.length : 0;
  const chunkTableSize = RafsChunkInfo.size * blobs.reduce((n, b) => n + b.chunks.length, 0);
  const firstInodeBlock = alignUp(prefetchTableOffset + prefetchTableSize, BLOCK) / BLOCK;
  // One block before the first inode, so the root's nid is never 0.
  const metaBlkaddr = firstInodeBlock - 1;

  // 3. Data lengths of directories (they depend on the names alone) and symlinks.
  const dataLength = new Float64Array(count);
  for (const [i, names] of childNames)
    dataLength[i] = packDirents(direntsOf(order[i], parents[i], tree.childrenOf(order[i])!, names).names);
  order.forEach((inode, i) => {
    if (kinds[i] === 'symlink') dataLength[i] = t.symlinks.get(inode)?.length ?? 0;
  });

  // 4. Inode placement (32-byte slots; an inode core never straddles a block). A directory or
  // symlink whose last partial block fits beside its inode keeps it there (FLAT_INLINE), as
  // nydus-image and mkfs.erofs do: most of them then take no data block at all.
  const chunkBits = Math.log2(opts.chunkSize);
  const offsets = new Float64Array(count);
  const nids = new Float64Array(count);
  const inline = new Uint8Array(count);
  const sizeOf = (i: number) => {
    const size = t.size[order[i]];
    const base = INODE_SIZE + xattrBodies[i].length;
    if (kinds[i] === 'file' && size > 0) return alignUp(base, 8) + 8 * Math.ceil(size / opts.chunkSize);
    return base + (inline[i] ? dataLength[i] % BLOCK : 0);
  };
  let cursor = firstInodeBlock * BLOCK;
  for (let i = 0; i < count; i++) {
    cursor = alignUp(cursor, 32);
    const tail = dataLength[i] % BLOCK;
    inline[i] = tail > 0 && INODE_SIZE + xattrBodies[i].length + tail <= BLOCK ? 1 : 0;
    const unbroken = inline[i] ? sizeOf(i) : INODE_SIZE;
    if ((cursor % BLOCK) + unbroken > BLOCK) cursor = alignUp(cursor, BLOCK);
    offsets[i] = cursor;
    nids[i] = (cursor - metaBlkaddr * BLOCK) / 32;
    cursor += sizeOf(i);
  }
  const rootNid = nids[0];
  if (rootNid > 0xffff) throw new Error('root inode does not fit the superblock');

  // 5. Whole data blocks of directories and symlinks, after the inodes.
  const blkaddrs = new Float64Array(count).fill(-1);
  /** Bytes of an inode's data in whole blocks at its blkaddr; the rest (FLAT_INLINE) follows the inode. */
  const wholeOf = (i: number) => (inline[i] ? dataLength[i] - (dataLength[i] % BLOCK) : dataLength[i]);
  let block = alignUp(cursor, BLOCK) / BLOCK;
  for (let i = 0; i < count; i++) {
    const blocks = Math.ceil(wholeOf(i) / BLOCK);
    if (blocks > 0) {
      blkaddrs[i] = block;
      block += blocks;
    }
  }
  // The chunk table follows the inodes and data at a 4 KiB boundary (RafsV6SuperBlockExt::validate).
  const chunkTableOffset = block * BLOCK;
  const image = Buffer.alloc(alignUp(chunkTableOffset + chunkTableSize, BLOCK));
  /** Where byte `at` of inode i's data goes in the image. */
  const dataAt = (i: number, at: number) =>
    at < wholeOf(i) ? blkaddrs[i] * BLOCK + at : offsets[i] + INODE_SIZE + xattrBodies[i].length + at - wholeOf(i);

  // 6. Inodes, xattrs, chunk indexes, directory entries, symlink targets.
  for (let i = 0; i < count; i++) {
    const inode = order[i];
    const kind = kinds[i];
    const at = offsets[i];
    const xattrs = xattrBodies[i];
    let layout = LAYOUT_FLAT_PLAIN;
    let iu = 0;
    let size = 0;
    if (kind === 'file') {
      size = t.size[inode];
      if (size > 0) {
        layout = LAYOUT_CHUNK_BASED;
        iu = CHUNK_FORMAT_INDEXES | (chunkBits - 12);
      }
    } else if (kind === 'dir' || kind === 'symlink') {
      size = dataLength[i];
      iu = blkaddrs[i] >= 0 ? blkaddrs[i] : NULL_ADDR;
      if (inline[i]) layout = LAYOUT_FLAT_INLINE;
    } else if (kind === 'chardev' || kind === 'blockdev') {
      const rdev = t.rdevs.get(inode);
      iu = encodeDev(rdev?.major ?? 0, rdev?.minor ?? 0);
    }
    const mtime = t.mtime[inode];
    ErofsInodeExtended.write(image, at, {
      // Bit 0: extended inode; then the data layout.
      format: 1 | (layout << 1),
      xattrIcount: xattrs.length ? (xattrs.length - ErofsXattrIbodyHeader.size) / 4 + 1 : 0,
      mode: t.mode[inode] & 0xffff,
      size,
      iU: iu,
      ino: i + 1,
      uid: t.uid[inode],
      gid: t.gid[inode],
      mtime: Math.max(0, mtime),
      mtimeNsec: mtime >= 0 ? t.mtimeNsec[inode] : 0,
      nlink: nlinks[i],
    });
    xattrs.copy(image, at + INODE_SIZE);
    if (layout === LAYOUT_CHUNK_BASED) {
      let idx = at + alignUp(INODE_SIZE + xattrs.length, 8);
      const device = slotOf(t.blobIndex[inode]) + 1;
      const blob = blobOf.get(t.blobIndex[inode])!;
      const chunkCount = Math.ceil(size / opts.chunkSize);
      for (let k = 0; k < chunkCount; k++) {
        const ci = blob.fileChunks.get(t.firstChunk[inode] + k);
        // advise/device_id carry the chunk-info index (24 bits) and the device (blob index + 1).
        ErofsInodeChunkIndex.write(image, idx, {
          advise: ci & 0xffff,
          deviceId: (device & 0xff) | (((ci >>> 16) & 0xff) << 8),
          blkaddr: blob.chunks.uncompressedOffset(ci) / BLOCK,
        });
        idx += ErofsInodeChunkIndex.size;
      }
    } else if (kind === 'dir') {
      const { names, inodes } = direntsOf(inode, parents[i], tree.childrenOf(inode)!, childNames.get(i)!);
      packDirents(names, (index, first, k) => {
        const base = dataAt(i, index * BLOCK);
        let nameoff = k * DIRENT_SIZE;
        for (let j = 0; j < k; j++) {
          const name = names[first + j];
          const target = inodes[first + j];
          const fileType = FILE_TYPE[kinds[indexOf[target]]];
          ErofsDirent.write(image, base + j * DIRENT_SIZE, { nid: nids[indexOf[target]], nameoff, fileType });
          image.write(name, base + nameoff, 'latin1');
          nameoff += name.length;
        }
      });
    } else if (kind === 'symlink' && t.symlinks.has(inode)) {
      const target = t.symlinks.get(inode)!;
      const whole = wholeOf(i);
      if (whole > 0) target.copy(image, dataAt(i, 0), 0, whole);
      if (whole < target.length) target.copy(image, dataAt(i, whole), whole);
    }
  }

  // 7. Superblock, RAFS extended superblock, device slots, blob and chunk tables.
  ErofsSuperBlock.write(image, SUPER_OFFSET, {
    magic: EROFS_MAGIC,
    featureCompat: FEATURE_COMPAT_RAFS_V6,
    blkszbits: Math.log2(BLOCK),
    rootNid,
    inos: count,
    // The data devices' blocks, as nydus-image counts them.
    blocks: blobs.reduce((n, b) => n + b.uncompressedSize / BLOCK, 0),
    metaBlkaddr,
    featureIncompat: FEATURE_INCOMPAT_CHUNKED_FILE | FEATURE_INCOMPAT_DEVICE_TABLE,
    extraDevices: blobs.length,
    devtSlotoff: DEVT_SLOT_OFFSET / ErofsDeviceSlot.size,
  });

  const hasXattr = xattrBodies.some((x) => x.length > 0);
  const flags =
    (
      { zstd: RafsFlag.COMPRESSION_ZSTD, lz4_block: RafsFlag.COMPRESSION_LZ4, none: RafsFlag.COMPRESSION_NONE } as const
    )[opts.compressor] |
    (opts.digester === 'blake3' ? RafsFlag.HASH_BLAKE3 : RafsFlag.HASH_SHA256) |
    RafsFlag.EXPLICIT_UID_GID |
    RafsFlag.INLINED_CHUNK_DIGEST |
    (hasXattr ? RafsFlag.HAS_XATTR : 0);
  RafsV6SuperBlockExt.write(image, EXT_SUPER_OFFSET, {
    flags,
    blobTableOffset,
    blobTableSize,
    chunkSize: opts.chunkSize,
    chunkTableOffset,
    chunkTableSize,
    ...(prefetchTableSize > 0 ? { prefetchTableOffset, prefetchTableSize } : {}),
  });
  if (prefetchTableSize > 0) {
    let at = prefetchTableOffset;
    for (const pattern of patterns) {
      const node = tree.lookup(Buffer.from(pattern, 'utf8').toString('latin1'));
      const hit = node === undefined ? -1 : indexOf[node];
      if (hit < 0) continue; // a pattern naming nothing keeps its slot empty, as nydus-image does
      image.writeUInt32LE(nids[hit], at);
      at += 4;
    }
  }

  let mapped = image.length;
  blobs.forEach((b, i) => {
    const blocks = b.uncompressedSize / BLOCK;
    const mappedBlkaddr = alignUp(mapped, DEVICE_SEGMENT_ALIGN) / BLOCK;
    mapped = (mappedBlkaddr + blocks) * BLOCK;
    ErofsDeviceSlot.write(image, DEVT_SLOT_OFFSET + i * ErofsDeviceSlot.size, { blobId: b.id, blocks, mappedBlkaddr });
    RafsV6Blob.write(image, blobTableOffset + i * RafsV6Blob.size, {
      blobId: b.id,
      blobIndex: i,
      chunkSize: opts.chunkSize,
      chunkCount: b.chunks.length,
      compressionAlgo: Compressor[opts.compressor],
      digestAlgo: Digester[opts.digester],
      // A merged bootstrap is not inlined in its blobs: with INLINED_FS_META nydusd would name every blob after it.
      features: merged ? b.features & ~BlobFeature.INLINED_FS_META : b.features,
      compressedSize: b.size,
      uncompressedSize: b.uncompressedSize,
      blobTocSize: b.tocSize,
      blobMetaCompressor: Compressor.none,
      ciOffset: b.cctOffset,
      ciCompressedSize: b.cctSize,
      ciUncompressedSize: b.cctSize,
      blobTocDigest: b.tocDigest,
      blobMetaDigest: b.blobMetaDigest,
      blobMetaSize: b.blobMetaSize,
    });
  });
  let n = 0;
  for (const blob of blobs)
    for (let i = 0; i < blob.chunks.length; i++) {
      const c = blob.chunks.at(i);
      RafsChunkInfo.write(image, chunkTableOffset + n++ * RafsChunkInfo.size, {
        blockId: blob.chunks.digest(i),
        blobIndex: slotOf(blob.index),
        flags: c.compressedSize !== c.uncompressedSize ? 1 : 0,
        compressedSize: c.compressedSize,
        uncompressedSize: c.uncompressedSize,
        compressedOffset: c.compressedOffset,
        uncompressedOffset: c.uncompressedOffset,
        index: i,
      });
    }
  return image;
}
