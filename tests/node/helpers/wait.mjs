// Polls `condition` until it holds or `timeoutMs` passes (then throws with `what`). For integration tests
// against real processes, where there is no virtual clock to drive.
export async function waitFor(condition, timeoutMs = 5000, what = condition.toString()) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
