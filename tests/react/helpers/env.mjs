// A DOM (jsdom) for react-dom under node:test, plus small helpers shared by the tidewire/react tests.
// Import it first: react-dom checks for `window` when it loads.
//
// These tests render the way a browser does, outside act(): socket traffic updates state whenever it arrives,
// and the tests poll the DOM (waitFor) until what they expect is there. IS_REACT_ACT_ENVIRONMENT is false, so
// React does not ask for act() around those updates.
import { JSDOM } from 'jsdom';

import * as testHooks from 'node:test';

import { waitFor as poll } from '../../support/wait.mjs';
import { startServer } from '../../node/helpers/server.mjs';

export const dom = new JSDOM('<!doctype html><html><body></body></html>', {
  url: 'http://localhost/',
  pretendToBeVisual: true,
});
const installed = [];
function installGlobal(name, value) {
  if (Object.getOwnPropertyDescriptor(globalThis, name)?.configurable === false) return;
  installed.push([name, Object.getOwnPropertyDescriptor(globalThis, name)]);
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}
installGlobal('window', dom.window);
installGlobal('document', dom.window.document);
installGlobal('navigator', dom.window.navigator);
for (const name of [
  'Node',
  'Element',
  'HTMLElement',
  'HTMLInputElement',
  'HTMLIFrameElement',
  'Event',
  'KeyboardEvent',
  'MouseEvent',
  'FocusEvent',
  'MutationObserver',
  'getComputedStyle',
  'requestAnimationFrame',
  'cancelAnimationFrame',
]) {
  installGlobal(name, dom.window[name]);
}
globalThis.IS_REACT_ACT_ENVIRONMENT = false;

export const React = await import('react');
const { createRoot } = await import('react-dom/client');
export const h = React.createElement;
const { createClient } = await import('../../../web/dist/index.js');
const { RealtimeProvider } = await import('../../../web/dist/react/index.js');

// Everything React (and tidewire, which logs unhandled errors) prints as an error is collected; each test
// file asserts at its end that there was none.
export const consoleErrors = [];
const originalConsoleError = console.error;
console.error = (...args) => {
  consoleErrors.push(args.map(String).join(' '));
  originalConsoleError(...args);
};

/** Restores the globals (call in the file's last after()). */
export function teardownDom() {
  console.error = originalConsoleError;
  for (const [name, descriptor] of installed.reverse()) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete globalThis[name];
  }
  dom.window.close();
}

/** Polls `fn` until it is truthy (deadline `timeoutMs`). */
export const waitFor = (fn, timeoutMs = 5000, label = 'condition') => poll(fn, timeoutMs, label);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Renders `element` into a fresh container; `unmount()` is idempotent. */
export function mount(element) {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(element);
  let mounted = true;
  return {
    container,
    root,
    render: (next) => root.render(next),
    $: (selector) => container.querySelector(selector),
    $$: (selector) => [...container.querySelectorAll(selector)],
    unmount() {
      if (!mounted) return;
      mounted = false;
      root.unmount();
      container.remove();
    },
  };
}

/** A click as a user makes it (bubbles to React's root listener). */
export function click(el) {
  el.dispatchEvent(new dom.window.MouseEvent('click', { bubbles: true, cancelable: true }));
}

/** Types `value` into a controlled <input> (the native setter, then an input event, as browsers do). */
export function typeInto(input, value) {
  const setter = Object.getOwnPropertyDescriptor(dom.window.HTMLInputElement.prototype, 'value').set;
  setter.call(input, value);
  input.dispatchEvent(new dom.window.Event('input', { bubbles: true }));
}

export function pressKey(el, key, init = {}) {
  el.dispatchEvent(new dom.window.KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
}

export const text = (el) => (el ? el.textContent : null);

/**
 * The real server for this test file: started before its tests, stopped after them together with every client
 * `newClient(user)` made (and the DOM torn down). `inProvider(client, child)` renders under StrictMode with the
 * client in a <RealtimeProvider>. Call it at the top level of a test file.
 */
export function liveServer(args = ['--rate-limit', '5000', '--rate-burst', '5000']) {
  const { before, after } = testHooks;
  const live = { server: undefined, clients: [] };
  before(async () => {
    live.server = await startServer({ args });
  });
  after(async () => {
    for (const c of live.clients) c.close();
    await live.server?.stop();
    teardownDom();
  });
  live.newClient = (user) => {
    const c = createClient({ url: live.server.wsUrl, token: live.server.token(user) });
    live.clients.push(c);
    return c;
  };
  live.inProvider = (client, child) => h(React.StrictMode, null, h(RealtimeProvider, { client }, child));
  return live;
}
