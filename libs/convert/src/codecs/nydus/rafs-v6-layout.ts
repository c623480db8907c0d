import { ascii, bytes, layout, u16, u32, u64, u8 } from '../binary/layout';

// RAFS v6 on-disk structures: EROFS's (include/erofs_fs.h) and the RAFS extensions
// (nydus rafs/src/metadata/layout/v6.rs), with upstream's field names.

export const EROFS_MAGIC = 0xe0f5e1e2;
/** Byte offsets of the fixed structures in the bootstrap. */
export const SUPER_OFFSET = 1024;
export const EXT_SUPER_OFFSET = 1152;
export const DEVT_SLOT_OFFSET = 1408;

export const ErofsSuperBlock = layout('erofs_super_block', 128, {
  magic: u32(0),
  checksum: u32(4),
  featureCompat: u32(8),
  blkszbits: u8(12),
  sbExtslots: u8(13),
  rootNid: u16(14),
  inos: u64(16),
  buildTime: u64(24),
  buildTimeNsec: u32(32),
  blocks: u32(36),
  metaBlkaddr: u32(40),
  xattrBlkaddr: u32(44),
  uuid: bytes(48, 16),
  volumeName: bytes(64, 16),
  featureIncompat: u32(80),
  availableComprAlgs: u16(84),
  extraDevices: u16(86),
  devtSlotoff: u16(88),
});

export const RafsV6SuperBlockExt = layout('RafsV6SuperBlockExt', 256, {
  flags: u64(0),
  blobTableOffset: u64(8),
  blobTableSize: u32(16),
  chunkSize: u32(20),
  chunkTableOffset: u64(24),
  chunkTableSize: u64(32),
  prefetchTableOffset: u64(40),
  prefetchTableSize: u32(48),
});

/** One per data device (blob): where nydusd maps it in the flat block address space. */
export const ErofsDeviceSlot = layout('erofs_deviceslot', 128, {
  blobId: ascii(0, 64),
  blocks: u32(64),
  mappedBlkaddr: u32(68),
});

/** Extended (64-byte) inode: 32-bit ids and a per-file mtime. */
export const ErofsInodeExtended = layout('erofs_inode_extended', 64, {
  format: u16(0),
  xattrIcount: u16(2),
  mode: u16(4),
  size: u64(8),
  /** Block address, device number or chunk format, by layout. */
  iU: u32(16),
  ino: u32(20),
  uid: u32(24),
  gid: u32(28),
  mtime: u64(32),
  mtimeNsec: u32(40),
  nlink: u32(44),
});

export const ErofsXattrIbodyHeader = layout('erofs_xattr_ibody_header', 12, {
  nameFilter: u32(0),
  sharedCount: u8(4),
});

export const ErofsXattrEntry = layout('erofs_xattr_entry', 4, {
  nameLen: u8(0),
  nameIndex: u8(1),
  valueSize: u16(2),
});

export const ErofsDirent = layout('erofs_dirent', 12, {
  nid: u64(0),
  nameoff: u16(8),
  fileType: u8(10),
});

/** A chunk-based file's index entry: RAFS puts the chunk-info index in `advise` and the high bits of `deviceId`. */
export const ErofsInodeChunkIndex = layout('erofs_inode_chunk_index', 8, {
  advise: u16(0),
  deviceId: u16(2),
  blkaddr: u32(4),
});

export const RafsV6Blob = layout('RafsV6Blob', 256, {
  blobId: ascii(0, 64),
  blobIndex: u32(64),
  chunkSize: u32(68),
  chunkCount: u32(72),
  compressionAlgo: u32(76),
  digestAlgo: u32(80),
  features: u32(84),
  compressedSize: u64(88),
  uncompressedSize: u64(96),
  blobTocSize: u32(104),
  blobMetaCompressor: u32(108),
  ciOffset: u64(112),
  ciCompressedSize: u64(120),
  ciUncompressedSize: u64(128),
  blobTocDigest: bytes(136, 32),
  blobMetaDigest: bytes(168, 32),
  blobMetaSize: u64(200),
});

/** The chunk table's record (RafsV5ChunkInfo, shared by v6). */
export const RafsChunkInfo = layout('RafsV5ChunkInfo', 80, {
  blockId: bytes(0, 32),
  blobIndex: u32(32),
  flags: u32(36),
  compressedSize: u32(40),
  uncompressedSize: u32(44),
  compressedOffset: u64(48),
  uncompressedOffset: u64(56),
  fileOffset: u64(64),
  index: u32(72),
});
