// Polling with a deadline instead of fixed sleeps, for tests against real processes (the server, Chromium) where
// there is no virtual clock to drive. The one waitFor of the node, browser, react and bundler tests.

/**
 * Resolves with the first truthy value of `fn()` (sync or async), polling every `intervalMs`. Rejects after
 * `timeoutMs` with `label` and the last error `fn` threw, if any (a throw counts as "not yet").
 *
 *   await waitFor(() => client.getMetrics().subscriberCount === 0, 5000, 'subscription released');
 */
export async function waitFor(fn, timeoutMs = 5000, label = fn.toString(), intervalMs = 10) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${lastError.message ?? lastError})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
