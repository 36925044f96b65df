import { createElement } from 'react';

/**
 * The default look of every tidewire component, as one stylesheet. Components only set class names (all
 * prefixed `tw-`), so any rule here can be overridden by a later stylesheet, and the colours by the custom
 * properties on `.tw-root, :root`. Render `<TidewireStyles />` once, or put this string in your own CSS.
 *
 * Text colours meet WCAG AA (4.5:1) on the backgrounds they are drawn on (white, the message bubbles #f3f4f6
 * and #eff6ff, the open room #eff6ff): `--tw-muted` is a darker gray than `--tw-gray`, and state texts use the
 * `--tw-*-text` shades, while dots and borders keep the brighter `--tw-green`/`--tw-yellow` (3:1 suffices there).
 * tests/browser/a11y.test.mjs checks this with axe-core in every state of the demo.
 */
export const tidewireStyles = `
:root {
  --tw-green: #16a34a; --tw-yellow: #ca8a04; --tw-red: #dc2626; --tw-gray: #6b7280; --tw-blue: #2563eb;
  --tw-green-text: #15803d; --tw-yellow-text: #a16207; --tw-red-text: #b91c1c;
  --tw-bg: #fff; --tw-fg: #111827; --tw-muted: #5b6270; --tw-border: #e5e7eb; --tw-radius: 6px;
  --tw-font: system-ui, -apple-system, "Segoe UI", sans-serif;
}
.tw-status, .tw-indicator, .tw-status-button { display: inline-flex; align-items: center; gap: .4em;
  font: 500 .85rem/1.2 var(--tw-font); color: var(--tw-fg); }
.tw-dot { width: .6em; height: .6em; border-radius: 50%; background: var(--tw-gray); flex: none; }
.tw-spinner { width: .75em; height: .75em; border-radius: 50%; border: 2px solid currentColor;
  border-right-color: transparent; animation: tw-spin .8s linear infinite; flex: none; }
@keyframes tw-spin { to { transform: rotate(360deg); } }
@keyframes tw-pulse { 50% { opacity: .4; } }
.tw-state--connected .tw-dot { background: var(--tw-green); }
.tw-state--connecting, .tw-state--authenticating { color: var(--tw-muted); }
.tw-state--reconnecting { color: var(--tw-yellow-text); }
.tw-state--disconnected .tw-dot, .tw-state--idle .tw-dot { background: var(--tw-gray); }
.tw-state--error { color: var(--tw-red-text); }
.tw-state--error .tw-dot { background: var(--tw-red); }
.tw-badge { padding: .15em .55em; border-radius: 999px; border: 1px solid var(--tw-border); background: var(--tw-bg); }
.tw-indicator.tw-state--connected { color: var(--tw-green-text); border-color: currentColor; }
.tw-indicator.tw-state--connected .tw-dot { animation: tw-pulse 1.6s ease-in-out infinite; }
.tw-indicator.tw-state--disconnected, .tw-indicator.tw-state--error { color: var(--tw-red-text); }
.tw-realtime-status { position: relative; display: inline-block; }
.tw-status-button { cursor: pointer; }
.tw-popover { position: absolute; z-index: 50; top: calc(100% + 6px); right: 0; min-width: 16rem; padding: .75rem;
  background: var(--tw-bg); color: var(--tw-fg); border: 1px solid var(--tw-border); border-radius: var(--tw-radius);
  box-shadow: 0 8px 24px rgb(0 0 0 / .12); font: .85rem/1.4 var(--tw-font); }
.tw-popover h2 { margin: 0 0 .5rem; font-size: .95rem; }
.tw-details { display: grid; grid-template-columns: auto 1fr; gap: .25rem .75rem; margin: 0 0 .75rem; }
.tw-details dt { color: var(--tw-muted); }
.tw-details dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.tw-button { font: inherit; padding: .35em .8em; border-radius: var(--tw-radius); border: 1px solid var(--tw-border);
  background: var(--tw-bg); color: var(--tw-fg); cursor: pointer; }
.tw-button--primary { background: var(--tw-blue); border-color: var(--tw-blue); color: #fff; }
.tw-button:disabled { opacity: .5; cursor: default; }
.tw-toasts { position: fixed; z-index: 60; right: 1rem; bottom: 1rem; display: flex; flex-direction: column; gap: .5rem;
  font: .9rem/1.3 var(--tw-font); }
.tw-toast { display: flex; align-items: center; gap: .75rem; padding: .6rem .8rem; border-radius: var(--tw-radius);
  background: var(--tw-fg); color: #fff; box-shadow: 0 8px 24px rgb(0 0 0 / .2); border-left: 4px solid var(--tw-gray); }
.tw-toast--connected { border-left-color: var(--tw-green); }
.tw-toast--reconnecting { border-left-color: var(--tw-yellow); }
.tw-toast--disconnected { border-left-color: var(--tw-gray); }
.tw-toast--error { border-left-color: var(--tw-red); }
.tw-toast__close { margin-left: auto; background: none; border: 0; color: inherit; cursor: pointer; font-size: 1.1rem; }
.tw-avatars { display: flex; list-style: none; margin: 0; padding: 0; }
.tw-avatar { position: relative; display: inline-flex; align-items: center; justify-content: center; width: 2rem;
  height: 2rem; margin-left: -.4rem; border-radius: 50%; border: 2px solid var(--tw-bg); color: #fff;
  font: 600 .75rem/1 var(--tw-font); background: var(--tw-gray); }
.tw-avatar:first-child { margin-left: 0; }
.tw-avatar--c0 { background: #2563eb; } .tw-avatar--c1 { background: #db2777; } .tw-avatar--c2 { background: #047857; }
.tw-avatar--c3 { background: #b45309; } .tw-avatar--c4 { background: #7c3aed; } .tw-avatar--c5 { background: #0e7490; }
.tw-avatar--c6 { background: #dc2626; } .tw-avatar--c7 { background: #4b5563; }
.tw-avatar--more { background: var(--tw-border); color: var(--tw-fg); }
.tw-avatar__status { position: absolute; right: -1px; bottom: -1px; width: .6rem; height: .6rem; border-radius: 50%;
  border: 2px solid var(--tw-bg); background: var(--tw-gray); }
.tw-avatar__status--online { background: var(--tw-green); }
.tw-avatar__status--away { background: var(--tw-yellow); }
.tw-avatar__status--busy { background: var(--tw-red); }
.tw-chat { display: grid; grid-template-columns: minmax(12rem, 16rem) 1fr; min-height: 24rem; border: 1px solid var(--tw-border);
  border-radius: var(--tw-radius); font: .9rem/1.4 var(--tw-font); color: var(--tw-fg); background: var(--tw-bg); }
.tw-room-list { border-right: 1px solid var(--tw-border); overflow-y: auto; }
.tw-room-list ul { list-style: none; margin: 0; padding: 0; }
.tw-room { display: grid; grid-template-columns: 1fr auto; gap: .1rem .5rem; width: 100%; padding: .6rem .75rem;
  text-align: left; font: inherit; color: inherit; background: none; border: 0; border-bottom: 1px solid var(--tw-border); cursor: pointer; }
.tw-room[aria-current="true"] { background: #eff6ff; }
.tw-room__name { font-weight: 600; }
.tw-room__last { grid-column: 1 / -1; color: var(--tw-muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tw-unread { min-width: 1.4em; padding: 0 .4em; border-radius: 999px; background: var(--tw-blue); color: #fff;
  font-size: .75rem; text-align: center; }
.tw-room-view { display: flex; flex-direction: column; min-width: 0; }
.tw-room-view__header { padding: .6rem .75rem; border-bottom: 1px solid var(--tw-border); font-weight: 600; }
.tw-messages { flex: 1; list-style: none; margin: 0; padding: .5rem .75rem; overflow-y: auto; }
.tw-message { margin: .35rem 0; }
.tw-message--own .tw-message__text { background: #eff6ff; }
.tw-message__meta { color: var(--tw-muted); font-size: .75rem; }
.tw-message__sender { font-weight: 600; color: var(--tw-fg); margin-right: .4rem; }
.tw-message__text { display: inline-block; padding: .3rem .55rem; border-radius: var(--tw-radius); background: #f3f4f6;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.tw-reactions { display: flex; gap: .25rem; margin-top: .2rem; }
.tw-reaction { font: inherit; font-size: .8rem; padding: 0 .4rem; border-radius: 999px; border: 1px solid var(--tw-border);
  background: var(--tw-bg); cursor: pointer; }
.tw-messages__list { list-style: none; margin: 0; padding: 0; }
.tw-message:focus-visible, .tw-messages button:focus-visible { outline: 2px solid var(--tw-blue); outline-offset: 2px; }
.tw-reaction[aria-pressed="true"] { border-color: var(--tw-blue); background: #eff6ff; }
.tw-message--pending .tw-message__text { border: 1px dashed var(--tw-border); }
.tw-message--failed .tw-message__text { border: 1px solid var(--tw-red); }
.tw-message__status { color: var(--tw-muted); }
.tw-message--failed .tw-message__status { color: var(--tw-red-text, #b91c1c); }
.tw-member-line { margin: .35rem 0; color: var(--tw-muted); font-size: .75rem; text-align: center; }
.tw-room-view__members { font-weight: 400; color: var(--tw-muted); }
.tw-composer__count { align-self: center; font-size: .75rem; color: var(--tw-muted); white-space: nowrap; }
.tw-composer__count--over { color: var(--tw-red-text, #b91c1c); font-weight: 600; }
.tw-typing { min-height: 1.3rem; padding: 0 .75rem; color: var(--tw-muted); font-style: italic; }
.tw-composer { display: flex; gap: .5rem; padding: .6rem .75rem; border-top: 1px solid var(--tw-border); }
.tw-composer input { flex: 1; font: inherit; padding: .4rem .55rem; border: 1px solid var(--tw-border); border-radius: var(--tw-radius); }
.tw-empty { padding: 1rem; color: var(--tw-muted); }
.tw-visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
:where(.tw-button, .tw-room, .tw-reaction, .tw-status-button, .tw-composer input):focus-visible {
  outline: 2px solid var(--tw-blue); outline-offset: 2px; }
.tw-toast__close:focus-visible { outline: 2px solid currentColor; outline-offset: 2px; }
@media (prefers-reduced-motion: reduce) {
  .tw-spinner, .tw-indicator.tw-state--connected .tw-dot { animation: none; }
}
`;

/** Injects `tidewireStyles` as a `<style data-tidewire>` element. Render it once, near the root. */
export function TidewireStyles() {
  return createElement('style', { 'data-tidewire': '' }, tidewireStyles);
}
