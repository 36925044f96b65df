// The clock of the latency benchmark, shared by its processes. Send and deliver times must be comparable across
// processes on one machine. performance.timeOrigin + performance.now() is not quite: timeOrigin is the wall clock
// read once when a process starts, and processes started seconds apart were seen to disagree by 1.5 ms (the wall
// clock is adjusted against CLOCK_MONOTONIC by time sync in between). So the clock here is performance.now()
// (CLOCK_MONOTONIC since the process started) plus a per-process constant that puts it on CLOCK_MONOTONIC itself
// (process.hrtime, one clock for every process of the machine), in ms: exactly comparable, no BigInt per call.
const anchor = () => {
  let best = null;
  for (let i = 0; i < 21; i += 1) {
    const a = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    const c = Number(process.hrtime.bigint()) / 1e6;
    if (best === null || c - a < best.width) best = { width: c - a, base: (a + c) / 2 - b };
  }
  return best.base;
};
const base = anchor();

/** ms on CLOCK_MONOTONIC (the same in every process of the machine). */
export const clock = () => base + performance.now();

/**
 * How far this process's performance.timeOrigin + performance.now() is from CLOCK_MONOTONIC + a fixed epoch
 * offset: the spread of this value over processes is how much the wall-clock based timeline would have been off.
 */
export const wallClockOffsetMs = () => performance.timeOrigin - base;
