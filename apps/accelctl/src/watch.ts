import { SingleBar } from 'cli-progress';

/** One look at a running operation: where a bar stands, and the line a log would get. */
export interface ProgressFrame {
  value: number;
  total: number;
  /** Fields of the bar's format. */
  fields: Record<string, string | number>;
  line: string;
  finished: boolean;
}

/**
 * Polls until the operation ends: a progress bar on a terminal, otherwise one line on stderr
 * per change (machine output stays on stdout).
 */
export async function follow<T>(
  poll: () => Promise<T>,
  frameOf: (t: T) => ProgressFrame,
  barFormat: string,
  intervalMs = 500,
): Promise<T> {
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: barFormat, hideCursor: true, stream: process.stderr })
    : undefined;
  let started = false;
  let last = '';
  for (;;) {
    const t = await poll();
    const f = frameOf(t);
    if (bar) {
      if (!started && f.total > 0) {
        bar.start(f.total, f.value, f.fields);
        started = true;
      } else if (started) {
        bar.setTotal(f.total);
        bar.update(f.value, f.fields);
      }
    } else if (f.line !== last) {
      console.error(f.line);
      last = f.line;
    }
    if (f.finished) {
      bar?.stop();
      return t;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
