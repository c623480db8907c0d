/** One entry of `stargz.index.json`, with Go's field order (it decides the JSON key order). */
export interface TocEntry {
  name: string;
  type: 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'chunk';
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  offset?: number;
  innerOffset?: number;
  devMajor?: number;
  devMinor?: number;
  /** Base64 values, as Go marshals []byte. */
  xattrs?: Record<string, string>;
  digest?: string;
  chunkOffset?: number;
  chunkSize?: number;
  chunkDigest?: string;
}

export interface Toc {
  version: 1;
  entries: TocEntry[];
}

const KEY_ORDER: (keyof TocEntry)[] = [
  'name',
  'type',
  'size',
  'modtime',
  'linkName',
  'mode',
  'uid',
  'gid',
  'userName',
  'groupName',
  'offset',
  'innerOffset',
  'devMajor',
  'devMinor',
  'xattrs',
  'digest',
  'chunkOffset',
  'chunkSize',
  'chunkDigest',
];

/** A JSON string as Go's encoding/json writes it (HTML-safe escapes, U+2028/2029 escaped). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** Go's zero-value test for `omitempty`. */
const isEmpty = (v: unknown) =>
  v === undefined || v === 0 || v === '' || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** `json.MarshalIndent(toc, "", "\t")` of Go's JTOC, byte for byte. */
export function marshalToc(toc: Toc): Buffer {
  const entries = toc.entries.map((e) => {
    const fields: string[] = [];
    for (const key of KEY_ORDER) {
      const v = e[key];
      if (key !== 'name' && key !== 'type' && isEmpty(v)) continue;
      let value: string;
      if (key === 'xattrs') {
        const x = v as Record<string, string>;
        const keys = Object.keys(x).sort();
        value = `{\n${keys.map((k) => `\t\t\t\t${goJsonString(k)}: ${goJsonString(x[k])}`).join(',\n')}\n\t\t\t}`;
      } else {
        value = typeof v === 'number' ? String(v) : goJsonString(String(v ?? ''));
      }
      fields.push(`\t\t\t${goJsonString(key)}: ${value}`);
    }
    return `\t\t{\n${fields.join(',\n')}\n\t\t}`;
  });
  const body = entries.length ? `[\n${entries.join(',\n')}\n\t]` : '[]';
  return Buffer.from(`{\n\t"version": 1,\n\t"entries": ${body}\n}`, 'utf8');
}

/** `modtime` as Go's writer formats it: RFC 3339 UTC to the second, empty for zero or the epoch. */
export function formatModtime(seconds: number): string {
  if (!seconds) return '';
  return new Date(Math.round(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
