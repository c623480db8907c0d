import { Init1764000000000 } from './1764000000000-Init';
import { Conversions1764100000000 } from './1764100000000-Conversions';
import { Console1764200000000 } from './1764200000000-Console';
import { Security1764300000000 } from './1764300000000-Security';
import { LiveJobKey1764400000000 } from './1764400000000-LiveJobKey';
import { LayerAnnotations1764500000000 } from './1764500000000-LayerAnnotations';
import { RetentionIndexes1764600000000 } from './1764600000000-RetentionIndexes';
import { ConversionProgress1764700000000 } from './1764700000000-ConversionProgress';
import { JobRateLimit1764800000000 } from './1764800000000-JobRateLimit';
import { PinnedDigest1764900000000 } from './1764900000000-PinnedDigest';
import { Peers1765000000000 } from './1765000000000-Peers';
import { JobListIndexes1765100000000 } from './1765100000000-JobListIndexes';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  Init1764000000000,
  Conversions1764100000000,
  Console1764200000000,
  Security1764300000000,
  LiveJobKey1764400000000,
  LayerAnnotations1764500000000,
  RetentionIndexes1764600000000,
  ConversionProgress1764700000000,
  JobRateLimit1764800000000,
  PinnedDigest1764900000000,
  Peers1765000000000,
  JobListIndexes1765100000000,
];
