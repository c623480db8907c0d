import { TarEntryHeader } from '../tar/tar-header';
import { grown } from './columns';

export type NodeKind = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo';

/** An inode number: a row of an `InodeTable`. Hard links share one. */
export type Ino = number;

/** Raw xattr name → raw value bytes. */
export type Xattrs = ReadonlyMap<string, Buffer>;

/** The xattrs of every inode that has none. */
export const NO_XATTRS: Xattrs = new Map();

export const S_IFMT = 0o170000;
const S_IF: Record<NodeKind, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  chardev: 0o020000,
  blockdev: 0o060000,
  fifo: 0o010000,
};
const KIND_OF_IFMT = new Map(Object.entries(S_IF).map(([k, v]) => [v, k as NodeKind]));

const INITIAL_ROWS = 1024;

/**
 * Every inode of an image, as columns of numbers by inode number; what few inodes have (xattrs,
 * symlink targets, device numbers) is kept aside by number. A layer of hundreds of thousands of
 * files is as many inodes: an object of a dozen fields each was half of what the converter kept.
 */
export class InodeTable {
  count = 0;
  /** File type bits and permissions: the kind is `mode & S_IFMT`. */
  mode = new Uint32Array(INITIAL_ROWS);
  uid = new Float64Array(INITIAL_ROWS);
  gid = new Float64Array(INITIAL_ROWS);
  mtime = new Float64Array(INITIAL_ROWS);
  /** Sub-second part of the mtime (the extended inode's i_mtime_nsec). */
  mtimeNsec = new Uint32Array(INITIAL_ROWS);
  size = new Float64Array(INITIAL_ROWS);
  /** Regular files: the layer whose blob holds the data (-1 for none)… */
  blobIndex = new Int32Array(INITIAL_ROWS);
  /** …and where in that blob's `fileChunks` the file's chunk indexes start. */
  firstChunk = new Uint32Array(INITIAL_ROWS);
  /** The layer that last created or replaced the inode under some name (for opaque directories). */
  createdIn = new Int32Array(INITIAL_ROWS);
  readonly xattrs = new Map<Ino, Xattrs>();
  readonly symlinks = new Map<Ino, Buffer>();
  readonly rdevs = new Map<Ino, { major: number; minor: number }>();

  /** A new inode of `kind`, everything else zero. */
  add(kind: NodeKind, permissions = 0): Ino {
    const ino = this.count++;
    if (ino === this.mode.length) {
      const n = ino + 1;
      this.mode = grown(this.mode, n);
      this.uid = grown(this.uid, n);
      this.gid = grown(this.gid, n);
      this.mtime = grown(this.mtime, n);
      this.mtimeNsec = grown(this.mtimeNsec, n);
      this.size = grown(this.size, n);
      this.blobIndex = grown(this.blobIndex, n);
      this.firstChunk = grown(this.firstChunk, n);
      this.createdIn = grown(this.createdIn, n);
    }
    this.mode[ino] = S_IF[kind] | (permissions & 0o7777);
    this.blobIndex[ino] = -1;
    return ino;
  }

  kind(ino: Ino): NodeKind {
    return KIND_OF_IFMT.get(this.mode[ino] & S_IFMT)!;
  }

  isDir(ino: Ino): boolean {
    return (this.mode[ino] & S_IFMT) === S_IF.dir;
  }

  xattrsOf(ino: Ino): Xattrs {
    return this.xattrs.get(ino) ?? NO_XATTRS;
  }

  setXattrs(ino: Ino, xattrs: Xattrs): void {
    if (xattrs.size) this.xattrs.set(ino, xattrs);
    else this.xattrs.delete(ino);
  }
}

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
  readonly root: Ino;
  /** Directories: their entries by raw name (latin1 string of the bytes). */
  private readonly children = new Map<Ino, Map<string, Ino>>();
  /** Directories made opaque by the current layer (their lower children were dropped). */
  private opaqueThisLayer = new Set<Ino>();
  private layer = 0;

  /**
   * @param applyWhiteouts false keeps `.wh.*` entries as plain files: the per-layer bootstrap
   *   inside a blob records the layer as it is, and merging applies the whiteouts later.
   * @param inodes shared with another tree of the same files (a layer's own tree and the merged one).
   */
  constructor(
    private readonly applyWhiteouts = true,
    readonly inodes = new InodeTable(),
  ) {
    this.root = this.newDir();
  }

  beginLayer(): void {
    this.opaqueThisLayer = new Set();
    this.layer++;
  }

  /** A directory's entries; undefined for anything else. */
  childrenOf(dir: Ino): ReadonlyMap<string, Ino> | undefined {
    return this.children.get(dir);
  }

  private newDir(): Ino {
    const dir = this.inodes.add('dir', 0o755);
    this.children.set(dir, new Map());
    return dir;
  }

  /** Paths created by the current layer: an opaque marker must not remove those. */
  private created(ino: Ino): void {
    if (this.applyWhiteouts) this.inodes.createdIn[ino] = this.layer;
  }

  private dirOf(parts: string[], create: boolean): Ino | undefined {
    let dir = this.root;
    for (const p of parts) {
      let next = this.children.get(dir)!.get(p);
      if (next === undefined || !this.inodes.isDir(next)) {
        if (!create) return undefined;
        next = this.newDir();
        this.children.get(dir)!.set(ownCopy(p), next);
        this.created(next);
      }
      dir = next;
    }
    return dir;
  }

  lookup(name: string): Ino | undefined {
    const parts = splitPath(name);
    if (parts.length === 0) return this.root;
    const dir = this.dirOf(parts.slice(0, -1), false);
    return dir === undefined ? undefined : this.children.get(dir)!.get(parts[parts.length - 1]);
  }

  /**
   * Applies one tar entry of the current layer; returns the inode it made, unless a directory.
   * `made`: the inode another tree made of this same entry, taken as is rather than made again
   * (a layer's own tree and the merged one then hold one inode per file, symlink or device, not
   * two: the table they share outlives the layer's tree).
   * `path`: the entry's split name, shared by both trees (and so are the names they keep).
   */
  apply(h: TarEntryHeader, xattrs: Xattrs, made?: Ino, path: EntryPath = entryPath(h.name)): Ino | undefined {
    const t = this.inodes;
    const base = path.base;
    if (base === undefined) {
      this.setAttrs(this.root, h, xattrs);
      return undefined;
    }
    const dir = this.dirOf(path.dirs, true)!;
    const entries = this.children.get(dir)!;
    if (base === OPAQUE && this.applyWhiteouts) {
      if (!this.opaqueThisLayer.has(dir)) {
        for (const [k, v] of entries) if (t.createdIn[v] !== this.layer) entries.delete(k);
        this.opaqueThisLayer.add(dir);
      }
      return undefined;
    }
    if (base.startsWith(WHITEOUT) && this.applyWhiteouts) {
      entries.delete(base.slice(WHITEOUT.length));
      return undefined;
    }
    if (h.type === 'link') {
      const target = this.lookup(h.linkname ?? '');
      if (target !== undefined && !t.isDir(target)) {
        // Unpackers chmod/chown the new name, i.e. the shared inode, with the link entry's header.
        t.mode[target] = (t.mode[target] & S_IFMT) | (h.mode & 0o7777);
        t.uid[target] = h.uid;
        t.gid[target] = h.gid;
        t.mtime[target] = h.mtime;
        t.mtimeNsec[target] = h.mtimeNsec ?? 0;
        if (xattrs.size) t.setXattrs(target, new Map([...t.xattrsOf(target), ...xattrs]));
        entries.set(base, target);
        this.created(target);
      }
      return undefined;
    }
    const existing = entries.get(base);
    if (h.type === 'directory' && existing !== undefined && t.isDir(existing)) {
      this.setAttrs(existing, h, xattrs);
      this.created(existing);
      return undefined;
    }
    if (made !== undefined && h.type !== 'directory') {
      entries.set(base, made);
      this.created(made);
      return made;
    }
    const kind = KIND[h.type];
    const node = kind === 'dir' ? this.newDir() : t.add(kind);
    this.setAttrs(node, h, xattrs);
    if (kind === 'symlink') t.symlinks.set(node, Buffer.from(h.linkname ?? '', 'latin1'));
    if (kind === 'chardev' || kind === 'blockdev')
      t.rdevs.set(node, { major: h.devmajor ?? 0, minor: h.devminor ?? 0 });
    if (kind === 'file') t.size[node] = h.size;
    entries.set(base, node);
    this.created(node);
    return kind === 'dir' ? undefined : node;
  }

  private setAttrs(node: Ino, h: TarEntryHeader, xattrs: Xattrs): void {
    const t = this.inodes;
    t.mode[node] = (t.mode[node] & S_IFMT) | (h.mode & 0o7777);
    t.uid[node] = h.uid;
    t.gid[node] = h.gid;
    t.mtime[node] = h.mtime;
    t.mtimeNsec[node] = h.mtimeNsec ?? 0;
    t.setXattrs(node, xattrs);
  }
}

/** Raw xattrs from PAX `SCHILY.xattr.*` records (values are latin1 strings of raw bytes). */
export function xattrsFromPax(pax: Record<string, string> | undefined): Xattrs {
  if (!pax) return NO_XATTRS;
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(pax))
    if (k.startsWith('SCHILY.xattr.')) out.set(k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
  return out.size ? out : NO_XATTRS;
}
