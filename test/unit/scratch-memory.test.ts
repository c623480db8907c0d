import { scratchMemory } from '@accel/convert';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const residentMiB = () => (Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096) / 2 ** 20;

describe('scratch memory for results garbage once consumed (a Nydus bootstrap)', () => {
  const scratch = scratchMemory();

  it('is mapped memory when the deflate addon is built, as the install builds it', () => {
    assert.equal(scratch.name, 'mapped');
  });

  it('gives its pages back at once when discarded, and the buffer then reads as zeros', () => {
    const block = scratch.alloc(64 << 20);
    assert.equal(block.length, 64 << 20);
    assert.equal(block.indexOf(1), -1, 'a new block is zero-filled');
    const before = residentMiB();
    block.fill(7);
    const written = residentMiB();
    assert.ok(written - before >= 60, `writing 64 MiB made ${(written - before).toFixed(0)} MiB resident`);
    scratch.discard(block);
    const after = residentMiB();
    assert.ok(written - after >= 60, `discarding gave back ${(written - after).toFixed(0)} MiB, not 64`);
    assert.equal(block.indexOf(7), -1);
    block[0] = 1; // still mapped: a late write is harmless
    assert.equal(block[0], 1);
  });

  it('refuses to discard memory it did not hand out', () => {
    assert.throws(() => scratch.discard(Buffer.alloc(1 << 20, 3)), /must come from scratchBlock/);
    assert.throws(() => scratch.discard(scratch.alloc(8192).subarray(4096)), /must come from scratchBlock/);
    const empty = scratch.alloc(0);
    assert.equal(empty.length, 0);
    scratch.discard(empty);
  });
});
