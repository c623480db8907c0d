import { ConversionProgressView } from '@accel/db';

/** What the image pipeline reports while it converts; where it is kept is the task's business. */
export interface ProgressSink {
  phase(phase: ConversionProgressView['phase']): void;
  /** The work ahead: source layers and their bytes, over every platform converted. */
  plan(layers: number, bytes: number): void;
  /** Source bytes read. */
  read(bytes: number): void;
  /** A layer is done; `skippedBytes` for one reused without being read. */
  layerDone(skippedBytes?: number): void;
}

/**
 * The latest view of a conversion, saved at most once per interval and at each phase change,
 * with one save in flight: a fast layer does not turn into a write per chunk.
 */
export class ConversionProgress implements ProgressSink {
  private current: ConversionProgressView = {
    phase: 'pull',
    layers_total: 0,
    layers_done: 0,
    bytes_total: 0,
    bytes_done: 0,
  };
  private lastSave = 0;
  private saving?: Promise<void>;
  private dirty = false;

  constructor(
    private readonly save: (view: ConversionProgressView) => Promise<void>,
    private readonly intervalMs = 1000,
  ) {}

  get view(): ConversionProgressView {
    return { ...this.current };
  }

  phase(phase: ConversionProgressView['phase']): void {
    this.current.phase = phase;
    this.changed(true);
  }

  plan(layers: number, bytes: number): void {
    this.current.layers_total = layers;
    this.current.bytes_total = bytes;
    this.changed(true);
  }

  read(bytes: number): void {
    this.current.bytes_done += bytes;
    this.changed(false);
  }

  layerDone(skippedBytes = 0): void {
    this.current.layers_done++;
    this.current.bytes_done += skippedBytes;
    this.changed(false);
  }

  /** Waits for the save in flight, then saves what it missed. */
  async flush(): Promise<void> {
    await this.saving;
    if (this.dirty) this.startSave();
    await this.saving;
  }

  private changed(now: boolean): void {
    this.dirty = true;
    if (this.saving || (!now && Date.now() - this.lastSave < this.intervalMs)) return;
    this.startSave();
  }

  private startSave(): void {
    this.dirty = false;
    this.lastSave = Date.now();
    // Progress is advisory: a failed write must not fail the conversion.
    this.saving = this.save(this.view)
      .catch(() => undefined)
      .finally(() => (this.saving = undefined));
  }
}
