import { BLOCK, BlobFeature, Compressor, Digester, alignUp } from './blob-format';
import { NydusBlob, NydusOptions } from './types';
import { FsInode, FsTree, NodeKind } from './fs-tree';

/** RAFS v6 = an EROFS image whose regular files are chunk indexes into the layer blobs. */
export const EROFS_MAGIC = 0xe0f5e1e2;
const SUPER_OFFSET = 1024;
const EXT_SUPER_OFFSET = 1152;
const DEVT_SLOT_OFFSET = 1408;
const DEVT_SLOT_SIZE = 128;
const FEATURE_COMPAT_RAFS_V6 = 0x4000_0000;
const FEATURE_INCOMPAT_CHUNKED_FILE = 0x4;
const FEATURE_INCOMPAT_DEVICE_TABLE = 0x8;
const INODE_SIZE = 64; // extended inodes: 32-bit ids and per-file mtime
const LAYOUT_FLAT_PLAIN = 0;
const LAYOUT_FLAT_INLINE = 2;
const LAYOUT_CHUNK_BASED = 4;
const CHUNK_FORMAT_INDEXES = 0x0020;
const DIRENT_SIZE = 12;
const BLOB_ENTRY_SIZE = 256;
const CHUNK_RECORD_SIZE = 80;
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

function encodeXattrs(xattrs: Map<string, Buffer>): Buffer {
  if (xattrs.size === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [Buffer.alloc(12)];
  for (const [name, value] of [...xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const prefix = XATTR_PREFIXES.find(([, p]) => name.startsWith(p));
    // Linux has no xattr outside these namespaces, and nydusd refuses name index 0.
    if (!prefix) continue;
    const suffix = Buffer.from(name.slice(prefix[1].length), 'latin1');
    const head = Buffer.alloc(4);
    head.writeUInt8(suffix.length, 0);
    head.writeUInt8(prefix[0], 1);
    head.writeUInt16LE(value.length, 2);
    const entry = Buffer.concat([head, suffix, value]);
    parts.push(entry, Buffer.alloc(alignUp(entry.length, 4) - entry.length));
  }
  return parts.length > 1 ? Buffer.concat(parts) : Buffer.alloc(0);
}

/** Linux new_encode_dev. */
const encodeDev = (major: number, minor: number) => ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;

interface Placed {
  inode: FsInode;
  ino: number;
  offset: number;
  nid: number;
  xattrs: Buffer;
  nlink: number;
  /** Directories and symlinks: their data; whole blocks at `blkaddr`, the tail after the inode when `inline`. */
  data?: Buffer;
  blkaddr?: number;
  /** FLAT_INLINE: the last partial block follows the inode and its xattrs in the same block. */
  inline: boolean;
  parent: FsInode;
}

interface DirEntry {
  name: Buffer;
  type: number;
  /** Where the entry's nid goes in the directory data, filled in once inodes are placed. */
  nidAt: number;
  inode: FsInode;
}

/**
 * Directory blocks: `.`/`..`/children sorted by name bytes, 12-byte dirents then names, per
 * 4 KiB block. Its size depends only on the names, so it is laid out before the inodes are
 * placed; the nids are written into it afterwards.
 */
function directoryData(entries: DirEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.name, b.name));
  let base = 0;
  const blocks: Buffer[] = [];
  let i = 0;
  while (i < sorted.length) {
    let k = 0;
    let used = 0;
    while (i + k < sorted.length && used + DIRENT_SIZE + sorted[i + k].name.length <= BLOCK) {
      used += DIRENT_SIZE + sorted[i + k].name.length;
      k++;
    }
    if (k === 0) throw new Error(`file name too long: ${sorted[i].name.length} bytes`);
    const block = Buffer.alloc(BLOCK);
    let nameoff = k * DIRENT_SIZE;
    for (let j = 0; j < k; j++) {
      const e = sorted[i + j];
      e.nidAt = base + j * DIRENT_SIZE;
      block.writeUInt16LE(nameoff, j * DIRENT_SIZE + 8);
      block.writeUInt8(e.type, j * DIRENT_SIZE + 10);
      e.name.copy(block, nameoff);
      nameoff += e.name.length;
    }
    i += k;
    blocks.push(i < sorted.length ? block : block.subarray(0, used));
    base += BLOCK;
  }
  return Buffer.concat(blocks);
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
  // 1. Inodes in breadth-first order (root first), hard links counted once.
  const order: Placed[] = [];
  const placed = new Map<FsInode, Placed>();
  const queue: FsInode[] = [tree.root];
  const visit = (inode: FsInode, parent: FsInode) => {
    const known = placed.get(inode);
    if (known) {
      known.nlink++;
      return;
    }
    const p: Placed = {
      inode,
      ino: order.length + 1,
      offset: 0,
      nid: 0,
      xattrs: encodeXattrs(inode.xattrs),
      nlink: 1,
      parent,
      inline: false,
    };
    placed.set(inode, p);
    order.push(p);
    if (inode.kind === 'dir' && inode !== tree.root) queue.push(inode);
  };
  visit(tree.root, tree.root);
  while (queue.length) {
    const dir = queue.shift()!;
    for (const name of [...dir.children!.keys()].sort((a, b) =>
      Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')),
    ))
      visit(dir.children!.get(name)!, dir);
  }
  for (const p of order)
    if (p.inode.kind === 'dir') p.nlink = 2 + [...p.inode.children!.values()].filter((c) => c.kind === 'dir').length;

  // 2. Fixed area: superblocks, device slots, blob table, chunk table.
  const devSlotsEnd = DEVT_SLOT_OFFSET + DEVT_SLOT_SIZE * blobs.length;
  const blobTableOffset = alignUp(devSlotsEnd, BLOCK);
  const blobTableSize = BLOB_ENTRY_SIZE * blobs.length;
  // The prefetch table (u32 nids, one slot per pattern) sits right after the blob table, as nydus-image places it.
  const patterns = opts.prefetchPatterns ?? [];
  const prefetchTableOffset = blobTableOffset + blobTableSize;
  const prefetchTableSize = blobs.length > 0 ? 4 * patterns.length : 0;
  const allChunks = blobs.flatMap((b) => b.chunks.map((c, i) => ({ blob: b, c, i })));
  const chunkTableSize = CHUNK_RECORD_SIZE * allChunks.length;
  const firstInodeBlock = alignUp(prefetchTableOffset + prefetchTableSize, BLOCK) / BLOCK;
  // One block before the first inode, so the root's nid is never 0.
  const metaBlkaddr = firstInodeBlock - 1;

  // 3. Directory and symlink data (directory nids follow in step 5).
  const dirEntries = new Map<Placed, DirEntry[]>();
  for (const p of order) {
    if (p.inode.kind === 'dir') {
      const entries: DirEntry[] = [
        { name: Buffer.from('.'), type: FILE_TYPE.dir, nidAt: 0, inode: p.inode },
        { name: Buffer.from('..'), type: FILE_TYPE.dir, nidAt: 0, inode: p.parent },
        ...[...p.inode.children!].map(([name, child]) => ({
          name: Buffer.from(name, 'latin1'),
          type: FILE_TYPE[child.kind],
          nidAt: 0,
          inode: child,
        })),
      ];
      p.data = directoryData(entries);
      dirEntries.set(p, entries);
    } else if (p.inode.kind === 'symlink') {
      p.data = p.inode.symlink ?? Buffer.alloc(0);
    }
  }

  // 4. Inode placement (32-byte slots; an inode core never straddles a block). A directory or
  // symlink whose last partial block fits beside its inode keeps it there (FLAT_INLINE), as
  // nydus-image and mkfs.erofs do: most of them then take no data block at all.
  const chunkBits = Math.log2(opts.chunkSize);
  const sizeOf = (p: Placed) => {
    const base = INODE_SIZE + p.xattrs.length;
    if (p.inode.kind === 'file' && p.inode.size > 0)
      return alignUp(base, 8) + 8 * Math.ceil(p.inode.size / opts.chunkSize);
    return base + (p.inline ? p.data!.length % BLOCK : 0);
  };
  let cursor = firstInodeBlock * BLOCK;
  for (const p of order) {
    cursor = alignUp(cursor, 32);
    const tail = (p.data?.length ?? 0) % BLOCK;
    p.inline = tail > 0 && INODE_SIZE + p.xattrs.length + tail <= BLOCK;
    const unbroken = p.inline ? sizeOf(p) : INODE_SIZE;
    if ((cursor % BLOCK) + unbroken > BLOCK) cursor = alignUp(cursor, BLOCK);
    p.offset = cursor;
    p.nid = (cursor - metaBlkaddr * BLOCK) / 32;
    cursor += sizeOf(p);
  }
  const rootNid = placed.get(tree.root)!.nid;
  if (rootNid > 0xffff) throw new Error('root inode does not fit the superblock');

  // 5. Directory nids; whole data blocks of directories and symlinks, after the inodes.
  let block = alignUp(cursor, BLOCK) / BLOCK;
  for (const p of order) {
    for (const e of dirEntries.get(p) ?? []) p.data!.writeBigUInt64LE(BigInt(placed.get(e.inode)!.nid), e.nidAt);
    const whole = p.data ? (p.inline ? Math.floor(p.data.length / BLOCK) : Math.ceil(p.data.length / BLOCK)) : 0;
    if (whole > 0) {
      p.blkaddr = block;
      block += whole;
    }
  }
  // The chunk table follows the inodes and data at a 4 KiB boundary (RafsV6SuperBlockExt::validate).
  const chunkTableOffset = block * BLOCK;
  const image = Buffer.alloc(alignUp(chunkTableOffset + chunkTableSize, BLOCK));

  // 6. Inodes, xattrs, chunk indexes, inline tails.
  for (const p of order) {
    const { inode } = p;
    const at = p.offset;
    let layout = LAYOUT_FLAT_PLAIN;
    let iu = 0;
    let size = 0;
    if (inode.kind === 'file') {
      size = inode.size;
      if (size > 0) {
        layout = LAYOUT_CHUNK_BASED;
        iu = CHUNK_FORMAT_INDEXES | (chunkBits - 12);
      }
    } else if (inode.kind === 'dir' || inode.kind === 'symlink') {
      size = p.data!.length;
      iu = p.blkaddr ?? NULL_ADDR;
      if (p.inline) layout = LAYOUT_FLAT_INLINE;
    } else if (inode.kind === 'chardev' || inode.kind === 'blockdev') {
      iu = encodeDev(inode.rdev.major, inode.rdev.minor);
    }
    image.writeUInt16LE(1 | (layout << 1), at);
    image.writeUInt16LE(p.xattrs.length ? (p.xattrs.length - 12) / 4 + 1 : 0, at + 2);
    image.writeUInt16LE(inode.mode & 0xffff, at + 4);
    image.writeBigUInt64LE(BigInt(size), at + 8);
    image.writeUInt32LE(iu >>> 0, at + 16);
    image.writeUInt32LE(p.ino, at + 20);
    image.writeUInt32LE(inode.uid >>> 0, at + 24);
    image.writeUInt32LE(inode.gid >>> 0, at + 28);
    image.writeBigUInt64LE(BigInt(Math.max(0, inode.mtime)), at + 32);
    if (inode.mtime >= 0) image.writeUInt32LE(inode.mtimeNsec ?? 0, at + 40);
    image.writeUInt32LE(p.nlink, at + 44);
    p.xattrs.copy(image, at + INODE_SIZE);
    if (layout === LAYOUT_CHUNK_BASED) {
      let idx = at + alignUp(INODE_SIZE + p.xattrs.length, 8);
      for (const c of inode.chunks) {
        // advise/device_id carry the chunk-info index (24 bits) and the device (blob index + 1).
        image.writeUInt16LE(c.ciIndex & 0xffff, idx);
        image.writeUInt16LE(((slotOf(c.blobIndex) + 1) & 0xff) | (((c.ciIndex >>> 16) & 0xff) << 8), idx + 2);
        image.writeUInt32LE(c.uncompressedOffset / BLOCK, idx + 4);
        idx += 8;
      }
    }
    if (p.data) {
      const whole = p.inline ? p.data.length - (p.data.length % BLOCK) : p.data.length;
      if (p.blkaddr !== undefined) p.data.copy(image, p.blkaddr * BLOCK, 0, whole);
      if (p.inline) p.data.copy(image, at + INODE_SIZE + p.xattrs.length, whole);
    }
  }

  // 7. Superblock, RAFS extended superblock, device slots, blob and chunk tables.
  const sb = SUPER_OFFSET;
  image.writeUInt32LE(EROFS_MAGIC, sb);
  image.writeUInt32LE(FEATURE_COMPAT_RAFS_V6, sb + 8);
  image.writeUInt8(12, sb + 12);
  image.writeUInt16LE(rootNid, sb + 14);
  image.writeBigUInt64LE(BigInt(order.length), sb + 16);
  // s_blocks counts the data devices' blocks, as nydus-image sets it.
  image.writeUInt32LE(
    blobs.reduce((n, b) => n + b.uncompressedSize / BLOCK, 0),
    sb + 36,
  );
  image.writeUInt32LE(metaBlkaddr, sb + 40);
  image.writeUInt32LE(FEATURE_INCOMPAT_CHUNKED_FILE | FEATURE_INCOMPAT_DEVICE_TABLE, sb + 80);
  image.writeUInt16LE(blobs.length, sb + 86);
  image.writeUInt16LE(DEVT_SLOT_OFFSET / DEVT_SLOT_SIZE, sb + 88);

  const hasXattr = order.some((p) => p.xattrs.length > 0);
  const flags =
    (
      { zstd: RafsFlag.COMPRESSION_ZSTD, lz4_block: RafsFlag.COMPRESSION_LZ4, none: RafsFlag.COMPRESSION_NONE } as const
    )[opts.compressor] |
    (opts.digester === 'blake3' ? RafsFlag.HASH_BLAKE3 : RafsFlag.HASH_SHA256) |
    RafsFlag.EXPLICIT_UID_GID |
    RafsFlag.INLINED_CHUNK_DIGEST |
    (hasXattr ? RafsFlag.HAS_XATTR : 0);
  const ext = EXT_SUPER_OFFSET;
  image.writeBigUInt64LE(BigInt(flags), ext);
  image.writeBigUInt64LE(BigInt(blobTableOffset), ext + 8);
  image.writeUInt32LE(blobTableSize, ext + 16);
  image.writeUInt32LE(opts.chunkSize, ext + 20);
  image.writeBigUInt64LE(BigInt(chunkTableOffset), ext + 24);
  image.writeBigUInt64LE(BigInt(chunkTableSize), ext + 32);
  if (prefetchTableSize > 0) {
    image.writeBigUInt64LE(BigInt(prefetchTableOffset), ext + 40);
    image.writeUInt32LE(prefetchTableSize, ext + 48);
    let at = prefetchTableOffset;
    for (const pattern of patterns) {
      const node = tree.lookup(Buffer.from(pattern, 'utf8').toString('latin1'));
      const hit = node ? placed.get(node) : undefined;
      if (!hit) continue; // a pattern naming nothing keeps its slot empty, as nydus-image does
      image.writeUInt32LE(hit.nid, at);
      at += 4;
    }
  }

  let mapped = image.length;
  blobs.forEach((b, i) => {
    const slot = DEVT_SLOT_OFFSET + i * DEVT_SLOT_SIZE;
    image.write(b.id, slot, 64, 'ascii');
    const blocks = b.uncompressedSize / BLOCK;
    const mappedBlkaddr = alignUp(mapped, DEVICE_SEGMENT_ALIGN) / BLOCK;
    mapped = (mappedBlkaddr + blocks) * BLOCK;
    image.writeUInt32LE(blocks, slot + 64);
    image.writeUInt32LE(mappedBlkaddr, slot + 68);
    const e = blobTableOffset + i * BLOB_ENTRY_SIZE;
    image.write(b.id, e, 64, 'ascii');
    image.writeUInt32LE(i, e + 64);
    image.writeUInt32LE(opts.chunkSize, e + 68);
    image.writeUInt32LE(b.chunks.length, e + 72);
    image.writeUInt32LE(Compressor[opts.compressor], e + 76);
    image.writeUInt32LE(Digester[opts.digester], e + 80);
    // A merged bootstrap is not inlined in its blobs: with INLINED_FS_META nydusd would name every blob after it.
    image.writeUInt32LE((merged ? b.features & ~BlobFeature.INLINED_FS_META : b.features) >>> 0, e + 84);
    image.writeBigUInt64LE(BigInt(b.size), e + 88);
    image.writeBigUInt64LE(BigInt(b.uncompressedSize), e + 96);
    image.writeUInt32LE(b.tocSize, e + 104);
    image.writeUInt32LE(Compressor.none, e + 108);
    image.writeBigUInt64LE(BigInt(b.cctOffset), e + 112);
    image.writeBigUInt64LE(BigInt(b.cctSize), e + 120);
    image.writeBigUInt64LE(BigInt(b.cctSize), e + 128);
    b.tocDigest.copy(image, e + 136);
    b.blobMetaDigest.copy(image, e + 168);
    image.writeBigUInt64LE(BigInt(b.blobMetaSize), e + 200);
  });
  allChunks.forEach(({ blob, c, i }, n) => {
    const r = chunkTableOffset + n * CHUNK_RECORD_SIZE;
    blob.chunkDigests[i].copy(image, r);
    image.writeUInt32LE(slotOf(blob.index), r + 32);
    image.writeUInt32LE(c.compressedSize !== c.uncompressedSize ? 1 : 0, r + 36);
    image.writeUInt32LE(c.compressedSize, r + 40);
    image.writeUInt32LE(c.uncompressedSize, r + 44);
    image.writeBigUInt64LE(BigInt(c.compressedOffset), r + 48);
    image.writeBigUInt64LE(BigInt(c.uncompressedOffset), r + 56);
    image.writeUInt32LE(i, r + 72);
  });
  return image;
}
