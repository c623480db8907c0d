import { ManifestLocation } from '@accel/registry';
import { Injectable } from '@nestjs/common';
import { ImageStore } from './image-store';

/**
 * Writes target tags, one writer per tag at a time in this process, and only while the source
 * tag still names what was converted: a slow conversion of an older push never overwrites the
 * conversion of a newer one.
 */
@Injectable()
export class TagPublisher {
  /** The last publish of each target tag, so check-then-write runs one at a time per tag. */
  private readonly publishing = new Map<string, Promise<void>>();

  constructor(private readonly store: ImageStore) {}

  async publish(
    loc: ManifestLocation,
    targetTag: string,
    mediaType: string,
    body: Buffer,
    sourceDigest: string,
    sourceTag?: string,
  ): Promise<{ digest: string; superseded?: string }> {
    const key = `${loc.host}/${loc.repository}:${targetTag}`;
    const previous = this.publishing.get(key) ?? Promise.resolve();
    const mine = previous.then(async () => {
      if (sourceTag && sourceTag !== sourceDigest) {
        const now = await this.store.getManifest(loc, sourceTag);
        if (now.digest !== sourceDigest) {
          return {
            digest: '',
            superseded: `superseded: ${loc.repository}:${sourceTag} now holds ${now.digest}, whose conversion publishes ${targetTag}; ${sourceDigest} was converted but not published`,
          };
        }
      }
      return { digest: await this.store.putTag(loc, targetTag, mediaType, body) };
    });
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.publishing.set(key, settled);
    void settled.then(() => this.publishing.get(key) === settled && this.publishing.delete(key));
    return mine;
  }
}
