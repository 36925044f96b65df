// A bare Chrome DevTools Protocol client over Chromium's --remote-debugging-pipe (fd 3: commands to the browser,
// fd 4: its replies and events; JSON messages separated by a NUL byte). The throughput bench drives Chromium with
// it instead of Playwright, whose network reporting copies every WebSocket frame to the driver (half the
// throughput). No domains are enabled except those the caller asks for.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The same Chromium and flags as the browser tests; launchChromiumPipe adds the pipe and a fresh profile.
import { chromiumArgs, chromiumPath } from '../../tests/browser/helpers/browser.mjs';

export async function launchChromiumPipe() {
  const profile = mkdtempSync(join(tmpdir(), 'tidewire-cdp-'));
  const child = spawn(chromiumPath, [...chromiumArgs, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const toBrowser = child.stdio[3];
  const fromBrowser = child.stdio[4];
  const pending = new Map();
  const listeners = new Set();
  let nextId = 0;
  let buffered = '';
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (d) => {
    buffered += d;
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      const call = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (call) {
        pending.delete(msg.id);
        if (msg.error) call.reject(new Error(`CDP ${call.method}: ${msg.error.message}`));
        else call.resolve(msg.result);
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  exited.then(() => {
    for (const call of pending.values()) call.reject(new Error(`Chromium exited during ${call.method}`));
    pending.clear();
  });

  /** Sends a command (to the browser, or to a page when sessionId is given) and resolves with its result. */
  function send(method, params = {}, sessionId = undefined) {
    return new Promise((resolveCall, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve: resolveCall, reject, method });
      toBrowser.write(JSON.stringify({ id: nextId, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }
  /** Resolves with the first event named `method` (of `sessionId`) for which `pred` holds. */
  function waitEvent(method, sessionId, pred = () => true, timeoutMs = 60_000) {
    return new Promise((resolveEvent, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(l);
        reject(new Error(`CDP: no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (msg) => {
        if (msg.method === method && msg.sessionId === sessionId && pred(msg.params)) {
          clearTimeout(timer);
          listeners.delete(l);
          resolveEvent(msg.params);
        }
      };
      listeners.add(l);
    });
  }
  /** A fresh page in its own browser context: { sessionId, close() }. */
  async function newPage() {
    const { browserContextId } = await send('Target.createBrowserContext');
    const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
    return { sessionId, close: () => send('Target.disposeBrowserContext', { browserContextId }) };
  }
  async function close() {
    await Promise.race([send('Browser.close').catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill();
    await exited;
    // Chromium's helper processes may still be writing into the profile for a while after the browser exits
    // (ENOTEMPTY has been seen, even after 10 retries on a loaded host): retry for up to 5 s, then leave the
    // temporary directory behind rather than fail a measurement that is already done.
    for (let attempt = 0; ; attempt++) {
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        break;
      } catch (e) {
        if (attempt >= 9) {
          process.emitWarning(`tidewire bench: could not remove ${profile} (${e.code}); left behind`);
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  return { send, waitEvent, newPage, close };
}
