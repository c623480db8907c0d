import { ConvertedLayerEntity } from '@accel/db';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LayerOutput } from '../driver';

/** A source layer converted before with the same settings, and where its output was pushed. */
export interface KnownLayer extends LayerOutput {
  registry: string;
  repository: string;
}

/** The `converted_layer` table: what each source layer became, per driver settings. */
@Injectable()
export class ConvertedLayerRepository {
  constructor(@InjectRepository(ConvertedLayerEntity) private readonly rows: Repository<ConvertedLayerEntity>) {}

  async find(sourceDigest: string, settingsKey: string): Promise<KnownLayer | undefined> {
    const row = await this.rows.findOneBy({ sourceDigest, settingsKey });
    if (!row) return undefined;
    return {
      digest: row.targetDigest,
      size: row.targetSize,
      diffId: row.diffId,
      annotations: row.annotations,
      registry: row.registry,
      repository: row.repository,
    };
  }

  async remember(sourceDigest: string, settingsKey: string, layer: KnownLayer): Promise<void> {
    await this.rows.upsert(
      {
        sourceDigest,
        settingsKey,
        registry: layer.registry,
        repository: layer.repository,
        targetDigest: layer.digest,
        targetSize: layer.size,
        diffId: layer.diffId,
        annotations: layer.annotations,
      },
      ['sourceDigest', 'settingsKey'],
    );
  }
}
