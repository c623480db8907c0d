/**
 * PAX extended header records, "<length> <key>=<value>\n": keys are UTF-8, values are kept as
 * raw bytes (latin1 strings), so binary xattrs (security.capability) survive a round trip.
 */
export function encodePaxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  // The length counts its own digits.
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(len - body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** The records of a PAX header body; `undefined` when a record is malformed. */
export function decodePaxRecords(body: Buffer): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    // Trailing NULs pad some writers' bodies.
    if (body[at] === 0) break;
    const space = body.indexOf(0x20, at);
    if (space === -1) return undefined;
    const len = Number(body.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= space - at + 1 || at + len > body.length || body[at + len - 1] !== 0x0a)
      return undefined;
    const record = body.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) return undefined;
    out[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString('latin1');
    at += len;
  }
  return out;
}
