// Counting the bytes a piece of code allocates on the V8 heap, in Node 20 (whose
// v8.getHeapStatistics() has no total_allocated_bytes).
//
// Method: the harness process runs with --expose-gc and a fixed 64 MiB semi-space
// (--min-semi-space-size=64 --max-semi-space-size=64). A window starts right after a full gc(), so the
// young generation is empty; while no GC runs inside the window, every allocation is still on the heap
// when it ends, and (used_heap_size after − before) is exactly the bytes allocated, young or old, large
// objects included. Whether a GC ran inside is checked with a perf_hooks 'gc' PerformanceObserver
// (its entries arrive asynchronously, hence the short wait in end()). A window with a GC inside
// gives only a lower bound and is flagged; callers keep windows well under 64 MiB of allocation.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** V8 flags the harness process must be started with. */
export const HEAP_METER_NODE_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

export interface HeapWindow {
  /** Bytes allocated inside the window (exact when gcs is 0, else a lower bound). */
  bytes: number;
  /** Garbage collections that ran inside the window. */
  gcs: number;
  ms: number;
}

export class HeapMeter {
  private readonly gcStarts: number[] = [];
  private readonly observer: PerformanceObserver;
  /** used_heap_size of the reading itself (getHeapStatistics builds an object). */
  private readonly overhead: number;
  private t0 = 0;
  private h0 = 0;

  constructor() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error(`the heap meter needs node ${HEAP_METER_NODE_FLAGS.join(' ')}`);
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcStarts.push(e.startTime);
    });
    this.observer.observe({ entryTypes: ['gc'] });
    // Calibrate: a few empty windows, keep the smallest.
    let min = Infinity;
    for (let i = 0; i < 5; i++) {
      gc();
      const a = getHeapStatistics().used_heap_size;
      const b = getHeapStatistics().used_heap_size;
      min = Math.min(min, b - a);
    }
    this.overhead = min;
  }

  begin(): void {
    (globalThis as unknown as { gc: () => void }).gc();
    this.t0 = performance.now();
    this.h0 = getHeapStatistics().used_heap_size;
  }

  async end(): Promise<HeapWindow> {
    const h1 = getHeapStatistics().used_heap_size;
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const gcs = this.gcStarts.filter((t) => t > this.t0 && t < t1).length;
    return { bytes: Math.max(0, h1 - this.h0 - this.overhead), gcs, ms: t1 - this.t0 };
  }

  close(): void {
    this.observer.disconnect();
  }
}
