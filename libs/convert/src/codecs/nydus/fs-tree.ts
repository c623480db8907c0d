import { TarEntryHeader } from '../tar/tar-header';

export type NodeKind = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo';

/** One inode; hard links share it. */
export interface FsInode {
  kind: NodeKind;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Sub-second part of the mtime (the extended inode's i_mtime_nsec). */
  mtimeNsec?: number;
  size: number;
  /** Character and block devices only. */
  rdev?: { major: number; minor: number };
  symlink?: Buffer;
  /** Raw xattr name → raw value bytes; inodes without any share NO_XATTRS, so never set into it. */
  xattrs: ReadonlyMap<string, Buffer>;
  /** Regular files: the layer whose blob holds the data (-1 for none), and where in that blob's `fileChunks` the file's chunk indexes start. */
  blobIndex: number;
  firstChunk: number;
  /** Directories: children by raw name (latin1 string of the bytes). */
  children?: Map<string, FsInode>;
}

/**
 * The xattrs of every inode that has none. An image holds an inode per file, twice while a
 * layer converts (the merged tree and the layer's own): one empty Map each was a third of the
 * converter's heap on a layer of 70,000 files.
 */
export const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();

/** Every field in one order from the start: inodes share one shape and keep their fields inline. */
const inode = (kind: NodeKind, children?: Map<string, FsInode>): FsInode => ({
  kind,
  mode: 0,
  uid: 0,
  gid: 0,
  mtime: 0,
  mtimeNsec: undefined,
  size: 0,
  rdev: undefined,
  symlink: undefined,
  xattrs: NO_XATTRS,
  blobIndex: -1,
  firstChunk: 0,
  children,
});

export const S_IFMT = 0o170000;
const S_IF: Record<NodeKind, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  chardev: 0o020000,
  blockdev: 0o060000,
  fifo: 0o010000,
};

export const newDir = (mode = 0o755): FsInode => {
  const dir = inode('dir', new Map());
  dir.mode = S_IF.dir | (mode & 0o7777);
  return dir;
};

const KIND: Record<TarEntryHeader['type'], NodeKind> = {
  file: 'file',
  link: 'file',
  symlink: 'symlink',
  directory: 'dir',
  'character-device': 'chardev',
  'block-device': 'blockdev',
  fifo: 'fifo',
};

/**
 * A name kept as a key: split from an entry's whole path, a long component is a slice that
 * keeps the path alive (≈ 100 bytes per file, for the whole conversion).
 */
const ownCopy = (name: string): string => (name.length < 13 ? name : Buffer.from(name, 'latin1').toString('latin1'));

/** Path components of a tar name (raw bytes as latin1), without "", "." and leading "/". */
export const splitPath = (name: string): string[] => name.split('/').filter((p) => p !== '' && p !== '.');

/** A tar entry's place: its directory's path and its own name, split once for every tree that applies it. */
export interface EntryPath {
  dirs: string[];
  /** Undefined for the root itself. */
  base?: string;
}

export function entryPath(name: string): EntryPath {
  const parts = splitPath(name);
  return parts.length === 0 ? { dirs: [] } : { dirs: parts.slice(0, -1), base: ownCopy(parts[parts.length - 1]) };
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * The merged root filesystem of an image, built layer by layer with the overlay rules: a
 * `.wh.<name>` entry removes `<name>` from lower layers, `.wh..wh..opq` hides everything a
 * lower layer had in its directory, hard links share one inode.
 */
export class FsTree {
  readonly root = newDir();

  /**
   * @param applyWhiteouts false keeps `.wh.*` entries as plain files: the per-layer bootstrap
   *   inside a blob records the layer as it is, and merging applies the whiteouts later.
   */
  constructor(private readonly applyWhiteouts = true) {}
  /** Directories made opaque by the current layer (their lower children were dropped). */
  private opaqueThisLayer = new Set<FsInode>();
  /** Paths created by the current layer: an opaque marker must not remove those. */
  private createdThisLayer = new Set<FsInode>();

  beginLayer(): void {
    this.opaqueThisLayer = new Set();
    this.createdThisLayer = new Set();
  }

  private dirOf(parts: string[], create: boolean): FsInode | undefined {
    let dir = this.root;
    for (const p of parts) {
      let next = dir.children!.get(p);
      if (!next || next.kind !== 'dir') {
        if (!create) return undefined;
        next = newDir();
        dir.children!.set(ownCopy(p), next);
        this.createdThisLayer.add(next);
      }
      dir = next;
    }
    return dir;
  }

  lookup(name: string): FsInode | undefined {
    const parts = splitPath(name);
    if (parts.length === 0) return this.root;
    const dir = this.dirOf(parts.slice(0, -1), false);
    return dir?.children!.get(parts[parts.length - 1]);
  }

  /**
   * Applies one tar entry of the current layer; returns the inode a regular file's data goes to.
   * `file`: the inode another tree made of this same entry, taken as is rather than made again
   * (a layer's own tree and the merged one then hold one inode per file, not two).
   * `path`: the entry's split name, shared by both trees (and so are the names they keep).
   */
  apply(
    h: TarEntryHeader,
    xattrs: ReadonlyMap<string, Buffer>,
    file?: FsInode,
    path: EntryPath = entryPath(h.name),
  ): FsInode | undefined {
    const base = path.base;
    if (base === undefined) {
      this.setAttrs(this.root, h, xattrs);
      return undefined;
    }
    const dir = this.dirOf(path.dirs, true)!;
    if (base === OPAQUE && this.applyWhiteouts) {
      if (!this.opaqueThisLayer.has(dir)) {
        for (const [k, v] of dir.children!) if (!this.createdThisLayer.has(v)) dir.children!.delete(k);
        this.opaqueThisLayer.add(dir);
      }
      return undefined;
    }
    if (base.startsWith(WHITEOUT) && this.applyWhiteouts) {
      dir.children!.delete(base.slice(WHITEOUT.length));
      return undefined;
    }
    if (h.type === 'link') {
      const target = this.lookup(h.linkname ?? '');
      if (target && target.kind !== 'dir') {
        // Unpackers chmod/chown the new name, i.e. the shared inode, with the link entry's header.
        target.mode = (target.mode & S_IFMT) | (h.mode & 0o7777);
        target.uid = h.uid;
        target.gid = h.gid;
        target.mtime = h.mtime;
        target.mtimeNsec = h.mtimeNsec;
        if (xattrs.size) target.xattrs = new Map([...target.xattrs, ...xattrs]);
        dir.children!.set(base, target);
        this.createdThisLayer.add(target);
      }
      return undefined;
    }
    const existing = dir.children!.get(base);
    if (h.type === 'directory' && existing?.kind === 'dir') {
      this.setAttrs(existing, h, xattrs);
      this.createdThisLayer.add(existing);
      return undefined;
    }
    if (file && h.type === 'file') {
      dir.children!.set(base, file);
      this.createdThisLayer.add(file);
      return file;
    }
    const node: FsInode = h.type === 'directory' ? newDir() : inode(KIND[h.type]);
    this.setAttrs(node, h, xattrs);
    if (node.kind === 'symlink') node.symlink = Buffer.from(h.linkname ?? '', 'latin1');
    if (node.kind === 'chardev' || node.kind === 'blockdev')
      node.rdev = { major: h.devmajor ?? 0, minor: h.devminor ?? 0 };
    if (node.kind === 'file') node.size = h.size;
    dir.children!.set(base, node);
    this.createdThisLayer.add(node);
    return node.kind === 'file' ? node : undefined;
  }

  private setAttrs(node: FsInode, h: TarEntryHeader, xattrs: ReadonlyMap<string, Buffer>): void {
    node.mode = S_IF[node.kind] | (h.mode & 0o7777);
    node.uid = h.uid;
    node.gid = h.gid;
    node.mtime = h.mtime;
    node.mtimeNsec = h.mtimeNsec;
    node.xattrs = xattrs.size ? xattrs : NO_XATTRS;
  }
}

/** Raw xattrs from PAX `SCHILY.xattr.*` records (values are latin1 strings of raw bytes). */
export function xattrsFromPax(pax: Record<string, string> | undefined): ReadonlyMap<string, Buffer> {
  if (!pax) return NO_XATTRS;
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(pax))
    if (k.startsWith('SCHILY.xattr.')) out.set(k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
  return out.size ? out : NO_XATTRS;
}
