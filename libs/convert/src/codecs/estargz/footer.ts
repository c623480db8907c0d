export const ESTARGZ_FOOTER_SIZE = 51;

/** The 51-byte eStargz footer: an empty gzip member whose extra field names the TOC member's offset. */
export function estargzFooter(tocOffset: number): Buffer {
  const footer = Buffer.alloc(ESTARGZ_FOOTER_SIZE);
  Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xff, 26, 0, 0x53, 0x47, 22, 0]).copy(footer, 0);
  footer.write(`${tocOffset.toString(16).padStart(16, '0')}STARGZ`, 16, 22, 'ascii');
  Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]).copy(footer, 38);
  return footer;
}

/** Reads the TOC offset from an eStargz footer, or undefined when the bytes are not one. */
export function parseEstargzFooter(footer: Buffer): number | undefined {
  if (footer.length !== ESTARGZ_FOOTER_SIZE || footer[0] !== 0x1f || footer[1] !== 0x8b || footer[3] !== 0x04)
    return undefined;
  if (footer.readUInt16LE(10) !== 26 || footer[12] !== 0x53 || footer[13] !== 0x47 || footer.readUInt16LE(14) !== 22)
    return undefined;
  const extra = footer.toString('ascii', 16, 38);
  if (!/^[0-9a-f]{16}STARGZ$/.test(extra)) return undefined;
  return parseInt(extra.slice(0, 16), 16);
}
