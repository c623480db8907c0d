/** Counts permits; `use` runs a task when one is free. */
export class Semaphore {
  private waiting: (() => void)[] = [];

  constructor(private permits: number) {}

  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.permits > 0) this.permits--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.permits++;
    }
  }
}
