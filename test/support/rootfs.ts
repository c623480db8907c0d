import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from './layers';

/** Rootfs models for format checks: what layers should produce, and what an extraction holds. */
export interface Expected {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha?: string;
  link?: string;
}

/** What the rootfs looks like after the layers, computed independently of the converter. */
export function overlay(layers: SourceFile[][]): Map<string, Expected> {
  const fs = new Map<string, Expected>();
  for (const layer of layers) {
    for (const f of layer) {
      const name = f.name.replace(/\/$/, '');
      const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
      const base = name.slice(name.lastIndexOf('/') + 1);
      if (base === '.wh..wh..opq') {
        for (const k of [...fs.keys()])
          if (k.startsWith(`${dir}/`) && !layer.some((x) => x.name.replace(/\/$/, '') === k)) fs.delete(k);
        continue;
      }
      if (base.startsWith('.wh.')) {
        const gone = `${dir ? `${dir}/` : ''}${base.slice(4)}`;
        for (const k of [...fs.keys()]) if (k === gone || k.startsWith(`${gone}/`)) fs.delete(k);
        continue;
      }
      // Parents a layer does not declare exist as root-owned 0755 directories, as unpackers create them.
      const parts = name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        if (!fs.has(parent))
          fs.set(parent, {
            type: 'directory',
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: undefined,
            sha: undefined,
            link: undefined,
          });
      }
      if (f.type === 'link') {
        // One inode: the link entry's header sets its mode and owner (as unpackers chmod the new name).
        const target = fs.get(f.linkname!)!;
        Object.assign(target, { mode: f.mode ?? 0o644, uid: f.uid ?? 0, gid: f.gid ?? 0 });
        fs.set(name, target);
        continue;
      }
      fs.set(name, {
        type: f.type,
        // Linux shows every symlink as 0777, whatever the tar said.
        mode: f.type === 'symlink' ? 0o777 : (f.mode ?? 0o644),
        uid: f.uid ?? 0,
        gid: f.gid ?? 0,
        size: f.type === 'file' ? f.content!.length : undefined,
        sha: f.type === 'file' ? createHash('sha256').update(f.content!).digest('hex') : undefined,
        link: f.type === 'symlink' ? f.linkname : undefined,
      });
    }
  }
  return fs;
}

export function scan(root: string): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const walk = (rel: string) => {
    for (const n of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, p));
      const type = st.isDirectory()
        ? 'directory'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFile()
            ? 'file'
            : st.isCharacterDevice()
              ? 'character-device'
              : st.isBlockDevice()
                ? 'block-device'
                : st.isFIFO()
                  ? 'fifo'
                  : 'other';
      out.set(p, {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: type === 'file' ? st.size : undefined,
        sha:
          type === 'file'
            ? createHash('sha256')
                .update(readFileSync(join(root, p)))
                .digest('hex')
            : undefined,
        link: type === 'symlink' ? readlinkSync(join(root, p)) : undefined,
      });
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}
