// tidewire/react components rendered by react-dom in jsdom, against the real server where they read a client:
// ConnectionStatus, RealtimeIndicator, RealtimeStatus (popover + Reconnect), ConnectionToast (server stopped,
// then restarted on the same port), PresenceAvatars, ChatRoomList, ChatRoomView and Chat, TidewireStyles.
//
//   node --test tests/react/components.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { click, consoleErrors, dom, h, mount, pressKey, React, teardownDom, typeInto, waitFor } from './helpers/env.mjs';

import { startServer } from '../node/helpers/server.mjs';

const { createClient, CONNECTION_STATES } = await import('../../web/dist/index.js');
const {
  RealtimeProvider,
  useRealtimeChannel,
  ConnectionStatus,
  RealtimeIndicator,
  RealtimeStatus,
  ConnectionToast,
  PresenceAvatars,
  ChatRoomList,
  Chat,
  TidewireStyles,
  tidewireStyles,
  STATE_LABELS,
  colorIndex,
} = await import('../../web/dist/react/index.js');
const { StrictMode } = React;

const TIMEOUT = 30000;
const FAST = { reconnectBaseMs: 50, reconnectCapMs: 200 };
let server;
const clients = [];
const newClient = (user, extra = {}, srv = server) => {
  const c = createClient({ url: srv.wsUrl, token: srv.token(user), ...extra });
  clients.push(c);
  return c;
};
/** Holds a subscription so the lazy client connects. */
function Hold({ channel = 'room:components' }) {
  useRealtimeChannel({ channel });
  return null;
}
const app = (client, ...children) => h(StrictMode, null, h(RealtimeProvider, { client }, h(Hold), ...children));

before(async () => {
  server = await startServer({ args: ['--rate-limit', '5000', '--rate-burst', '5000'] });
});
after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
  teardownDom();
});

describe('ConnectionStatus and RealtimeIndicator', () => {
  test('each state from the `status` prop: its text, colour class, spinner or dot, and a polite status role', { timeout: TIMEOUT }, async () => {
    // No provider and no default client: the `status` prop alone is enough.
    for (const state of CONNECTION_STATES) {
      const view = mount(h('div', null, h(ConnectionStatus, { status: state }), h(RealtimeIndicator, { status: state })));
      try {
        await waitFor(() => view.$('.tw-status') !== null, 2000, `render ${state}`);
        const el = view.$('.tw-status');
        assert.equal(el.getAttribute('role'), 'status');
        assert.equal(el.getAttribute('aria-live'), 'polite');
        assert.ok(el.classList.contains(`tw-state--${state}`), el.className);
        assert.equal(el.textContent, STATE_LABELS[state]);
        const busy = ['connecting', 'authenticating', 'reconnecting'].includes(state);
        assert.equal(el.querySelector('.tw-spinner') !== null, busy, `${state}: spinner while busy`);
        assert.equal(el.querySelector('.tw-dot') !== null, !busy, `${state}: dot otherwise`);
        assert.equal(el.querySelector('[aria-hidden="true"]') !== null, true, 'the dot/spinner is hidden from screen readers');

        const badge = view.$('.tw-indicator');
        assert.equal(badge.getAttribute('role'), 'status');
        assert.equal(badge.textContent, state === 'connected' ? 'Live' : STATE_LABELS[state]);
        if (state === 'connected') assert.match(badge.getAttribute('aria-label'), /^Live: real-time updates are on$/);
      } finally {
        view.unmount();
      }
    }
    // Custom labels and the compact form.
    const view = mount(h(ConnectionStatus, { status: 'error', compact: true, labels: { error: 'Server unreachable' } }));
    await waitFor(() => view.$('.tw-status__label')?.textContent === 'Server unreachable', 2000);
    assert.ok(view.$('.tw-status__label').classList.contains('tw-visually-hidden'));
    view.unmount();
  });

  test('without `status` they follow the provider\'s client to Connected / Live', { timeout: TIMEOUT }, async () => {
    const client = newClient('ann');
    const view = mount(app(client, h(ConnectionStatus), h(RealtimeIndicator)));
    try {
      await waitFor(() => view.$('.tw-status')?.textContent === 'Connected', 5000, 'Connected');
      assert.equal(view.$('.tw-indicator').textContent, 'Live');
      assert.ok(view.$('.tw-indicator').classList.contains('tw-state--connected'));
    } finally {
      view.unmount();
    }
  });
});

describe('RealtimeStatus', () => {
  test('badge → popover with the details; its Reconnect button reconnects; Escape closes it', { timeout: TIMEOUT }, async () => {
    const client = newClient('bea', FAST);
    const view = mount(app(client, h(RealtimeStatus, { refreshMs: 100 })));
    try {
      await waitFor(() => view.$('.tw-status-button')?.dataset.state === 'connected', 5000, 'connected badge');
      const button = view.$('.tw-status-button');
      assert.equal(button.textContent, 'Live');
      assert.equal(button.getAttribute('aria-haspopup'), 'dialog');
      assert.equal(button.getAttribute('aria-expanded'), 'false');
      assert.equal(view.$('[role="dialog"]'), null);

      click(button);
      await waitFor(() => view.$('[role="dialog"]') !== null, 2000, 'the popover');
      const dialog = view.$('[role="dialog"]');
      assert.equal(dialog.getAttribute('aria-label'), 'Connection details');
      assert.equal(button.getAttribute('aria-expanded'), 'true');
      assert.equal(button.getAttribute('aria-controls'), dialog.id);
      const details = () =>
        Object.fromEntries(view.$$('.tw-details dt').map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));
      const d = details();
      assert.equal(d.State, 'Connected');
      assert.equal(d.Transport, 'WebSocket'); // the transport the connection uses (ClientOptions.transports)
      assert.equal(d['Queued messages'], '0');
      assert.equal(d.Reconnects, '0');
      assert.equal(d['Connection id'], client.getMetrics().connectionId);
      assert.ok(d['Connection id'].length > 0);
      assert.ok('Latency' in d);

      const before = client.getMetrics().connectionAttempts;
      const firstId = d['Connection id'];
      const reconnectButton = [...dialog.querySelectorAll('button')].find((b) => b.textContent === 'Reconnect');
      click(reconnectButton);
      await waitFor(() => client.getMetrics().connectionAttempts === before + 1 && client.state === 'connected', 5000, 'a reconnect');
      await waitFor(() => details()['Connection id'] !== firstId && details().State === 'Connected', 3000, 'the popover to refresh');

      pressKey(dom.window.document, 'Escape');
      await waitFor(() => view.$('[role="dialog"]') === null, 2000, 'Escape to close the popover');
      assert.equal(view.$('.tw-status-button').getAttribute('aria-expanded'), 'false');
    } finally {
      view.unmount();
    }
  });
});

describe('ConnectionToast', () => {
  test('a toast when the server goes away (reconnecting), one when it is back (restarted on the same port); auto-dismiss and close', { timeout: TIMEOUT }, async () => {
    let own = await startServer();
    const port = own.port;
    const client = newClient('cat', FAST, own);
    const view = mount(app(client, h(ConnectionToast, { durationMs: 1500 }), h(ConnectionStatus)));
    const toasts = () => view.$$('.tw-toast').map((t) => `${t.dataset.kind}:${t.getAttribute('role')}:${t.querySelector('.tw-toast__message').textContent}`);
    try {
      await waitFor(() => view.$('.tw-status')?.textContent === 'Connected', 5000, 'connected');
      const region = view.$('.tw-toasts');
      assert.equal(region.getAttribute('role'), 'region');
      assert.equal(region.getAttribute('aria-label'), 'Connection notifications');
      assert.equal(region.getAttribute('aria-live'), 'polite');
      assert.deepEqual(toasts(), [], 'the first connection is not announced by default');

      await own.stop();
      await waitFor(() => toasts().includes('reconnecting:status:Connection lost. Reconnecting…'), 5000, 'the lost toast');
      assert.equal(toasts().length, 1, 'repeated attempts do not stack toasts');

      own = await startServer({ args: ['--port', String(port)] });
      await waitFor(() => toasts().includes('connected:status:Connected. Live updates resumed.'), 10000, 'the back toast');
      assert.equal(toasts().length, 1, 'the lost toast was replaced');

      await waitFor(() => toasts().length === 0, 4000, 'auto-dismiss');

      // The close button: drop and restore once more, dismiss by hand.
      await own.stop();
      await waitFor(() => toasts().length === 1, 5000, 'another lost toast');
      click(view.$('.tw-toast__close'));
      await waitFor(() => toasts().length === 0, 1000, 'dismissed by its button');
      assert.equal(view.$('.tw-toast__close'), null);
      own = await startServer({ args: ['--port', String(port)] });
      await waitFor(() => view.$('.tw-status')?.textContent === 'Connected', 10000, 'connected again');
    } finally {
      view.unmount();
      client.close();
      await own.stop();
    }
  });
});

describe('PresenceAvatars', () => {
  test('initials, a colour from the id, status dots, "+N" overflow, labels', { timeout: TIMEOUT }, async () => {
    const users = [
      { id: 'u1', name: 'Ada Lovelace', status: 'online' },
      { id: 'u2', name: 'bob', status: 'away' },
      { id: 'u3', name: 'Cy Young', status: 'busy', color: 'rgb(1, 2, 3)' },
      { id: 'u4', name: 'Dee' },
      { id: 'u5', name: 'Eve' },
    ];
    const view = mount(h(PresenceAvatars, { users, max: 3 }));
    try {
      await waitFor(() => view.$('.tw-avatars') !== null, 2000);
      assert.equal(view.$('.tw-avatars').getAttribute('aria-label'), '5 people here');
      const avatars = view.$$('.tw-avatar');
      assert.equal(avatars.length, 4, '3 shown + the overflow');
      assert.deepEqual(avatars.map((a) => a.textContent), ['AL', 'B', 'CY', '+2']);
      assert.deepEqual(avatars.map((a) => a.getAttribute('aria-label')), ['Ada Lovelace (online)', 'bob (away)', 'Cy Young (busy)', '2 more']);
      assert.ok(avatars[0].classList.contains(`tw-avatar--c${colorIndex('u1')}`), 'palette class from the id');
      assert.equal(colorIndex('u1'), colorIndex('u1'));
      assert.equal(avatars[2].style.backgroundColor, 'rgb(1, 2, 3)', 'an explicit colour wins');
      assert.ok(avatars[1].querySelector('.tw-avatar__status--away'));
      assert.ok(avatars[3].classList.contains('tw-avatar--more'));
      assert.equal(avatars[3].getAttribute('title'), 'Dee, Eve');
    } finally {
      view.unmount();
    }
  });
});

describe('ChatRoomList', () => {
  test('names (DMs after the other user), last message, unread count, aria-current, onSelect', { timeout: TIMEOUT }, async () => {
    const base = { visibility: 'public', createdBy: 'me', createdAt: 0 };
    const rooms = [
      { ...base, id: 'r1', name: 'general', kind: 'room', participants: ['me'], unreadCount: 3, lastMessage: { id: 'm', roomId: 'r1', senderId: 'zoe', text: 'hey', createdAt: 1, editedAt: null, reactions: {} } },
      { ...base, id: 'r2', name: 'dm', kind: 'dm', participants: ['me', 'zoe'], unreadCount: 0, lastMessage: null },
    ];
    const picked = [];
    const view = mount(h(ChatRoomList, { rooms, activeRoomId: 'r2', currentUserId: 'me', onSelect: (r) => picked.push(r.id) }));
    try {
      await waitFor(() => view.$('nav') !== null, 2000);
      assert.equal(view.$('nav').getAttribute('aria-label'), 'Chat rooms');
      const buttons = view.$$('.tw-room');
      assert.deepEqual(buttons.map((b) => b.querySelector('.tw-room__name').textContent), ['#general', '@zoe']);
      assert.deepEqual(buttons.map((b) => b.querySelector('.tw-room__last').textContent), ['zoe: hey', 'No messages yet']);
      assert.equal(buttons[0].querySelector('.tw-unread').textContent, '3');
      assert.equal(buttons[0].querySelector('.tw-unread').getAttribute('aria-label'), '3 unread');
      assert.equal(buttons[1].querySelector('.tw-unread'), null);
      assert.equal(buttons[1].getAttribute('aria-current'), 'true');
      assert.equal(buttons[0].getAttribute('aria-current'), null);
      click(buttons[0]);
      assert.deepEqual(picked, ['r1']);
    } finally {
      view.unmount();
    }
  });
});

describe('Chat (ChatRoomList + ChatRoomView) against the server', () => {
  test('opens the room, shows messages, "X is typing…", sends on Enter, reacts, and the unread count clears', { timeout: TIMEOUT }, async () => {
    const ivy = newClient('ivy');
    const jack = newClient('jack');
    const room = await jack.chat.createRoom('design', { participants: ['ivy'] });
    await jack.request('chat_send', { roomId: room.id, text: 'first from jack' });
    const view = mount(app(ivy, h(TidewireStyles), h(Chat, { currentUserId: 'ivy', names: { jack: 'Jack' } })));
    const log = () => view.$('[role="log"]');
    const texts = () => view.$$('[role="log"] .tw-message__text').map((el) => el.textContent);
    try {
      await waitFor(() => view.$$('.tw-room').length === 1, 5000, 'the room list');
      await waitFor(() => texts().includes('first from jack'), 5000, 'the room to open with its messages');
      assert.equal(view.$('.tw-room').getAttribute('aria-current'), 'true');
      assert.equal(log().getAttribute('aria-live'), 'polite');
      assert.equal(log().getAttribute('aria-label'), 'Messages in design');
      assert.equal(view.$('.tw-message__sender').textContent, 'Jack', 'display names');
      // Viewing the room marked it read: the list refreshes to 0 unread.
      await waitFor(() => view.$('.tw-room .tw-unread') === null, 5000, 'unread cleared');

      const jackRoom = jack.chat.room(room.id);
      const jackHandle = jack.channel(`chat:${room.id}`);
      await jackHandle.whenSubscribed();
      jackRoom.setTyping(true);
      const typing = () => view.$('.tw-typing');
      await waitFor(() => typing().textContent === 'Jack is typing…', 3000, 'typing line (with the display name)');
      assert.equal(typing().getAttribute('aria-live'), 'polite');
      jackRoom.setTyping(false);
      await waitFor(() => typing().textContent === '', 3000, 'typing line cleared');

      const input = view.$('.tw-room-view input[type="text"]');
      assert.equal(input.getAttribute('aria-label'), 'Message design');
      typeInto(input, 'hello jack');
      await waitFor(() => input.value === 'hello jack', 1000);
      await waitFor(() => jackRoom.snapshot.typingUsers.includes('ivy'), 3000, 'ivy\'s typing to reach jack');
      pressKey(input, 'Enter');
      await waitFor(() => texts().includes('hello jack'), 3000, 'the sent message');
      assert.equal(input.value, '', 'input cleared');
      await waitFor(() => jackRoom.snapshot.messages.some((m) => m.text === 'hello jack'), 3000, 'jack received it');
      assert.ok(view.$$('.tw-message--own').length >= 1, 'own messages are marked');

      // Reactions toggle (issue #12): the name starts with the visible text, aria-pressed marks mine, a second
      // click removes it.
      const thumbs = () => view.$('.tw-message .tw-reaction');
      assert.equal(thumbs().getAttribute('aria-label'), '👍, react with 👍');
      assert.equal(thumbs().getAttribute('aria-pressed'), 'false');
      click(thumbs());
      await waitFor(() => thumbs().textContent === '👍 1', 3000, 'the reaction count');
      await waitFor(() => thumbs().getAttribute('aria-pressed') === 'true', 3000, 'mine is marked');
      assert.ok(thumbs().getAttribute('aria-label').startsWith(thumbs().textContent), 'the accessible name contains the visible text');
      click(thumbs());
      await waitFor(() => thumbs().textContent === '👍' && thumbs().getAttribute('aria-pressed') === 'false', 3000, 'a second click removes mine');

      await jackRoom.send('and another');
      await waitFor(() => texts().includes('and another'), 3000, 'jack\'s live message');
      await waitFor(() => view.$('.tw-room__last')?.textContent === 'jack: and another', 3000, 'the list\'s last message');
      jackRoom.close();

      // Members (issue #12): the header counts them; a leave shows as a line and updates the count.
      await waitFor(() => view.$('.tw-room-view__members')?.textContent === ' · 2 members', 3000, 'the member count');
      jackHandle.unsubscribe();
      await jack.chat.leaveRoom(room.id);
      await waitFor(() => view.$('.tw-member-line')?.textContent === 'Jack left', 3000, 'the leave line');
      assert.equal(view.$('.tw-room-view__members').textContent, ' · 1 member');
      assert.equal(view.$('.tw-member-line').tagName, 'LI', 'a list item of the log');

      // Creating a room from the form opens it.
      typeInto(view.$('input[aria-label="New room name"]'), 'ideas');
      click([...view.$$('button')].find((b) => b.textContent === 'Create'));
      await waitFor(() => view.$$('.tw-room').length === 2, 3000, 'the new room in the list');
      await waitFor(() => view.$('[role="log"]')?.getAttribute('aria-label') === 'Messages in ideas', 3000, 'the new room opened');

      const style = document.querySelector('style[data-tidewire]');
      assert.ok(style && style.textContent === tidewireStyles && tidewireStyles.includes('.tw-status'), 'TidewireStyles injects the CSS');
    } finally {
      view.unmount();
    }
    await waitFor(() => ivy.getMetrics().subscriberCount === 0, 2000, 'released on unmount');
  });
});

// Issue #12: accessibility and keyboard, own messages while offline, and the composer's limit.
describe('ChatRoomView: list items, one tab stop, pending and failed messages, the character count', () => {
  test('the log holds an <ol> of list items; the list is one tab stop with arrow keys inside', { timeout: TIMEOUT }, async () => {
    const kai = newClient('kai');
    const lou = newClient('lou');
    const room = await lou.chat.createRoom('keys', { participants: ['kai'] });
    for (let i = 1; i <= 20; i += 1) await lou.request('chat_send', { roomId: room.id, text: `m${i}` });
    const view = mount(app(kai, h(Chat, { currentUserId: 'kai', allowCreate: false })));
    try {
      await waitFor(() => view.$$('.tw-message').length === 20, 5000, 'twenty messages');
      const log = view.$('[role="log"]');
      const list = log.querySelector('ol');
      assert.ok(list, 'an <ol> inside the log region');
      assert.equal(list.getAttribute('role'), null, 'the list keeps its list role');
      assert.ok(view.$$('.tw-message').every((li) => li.tagName === 'LI' && li.parentElement === list), 'messages are its list items');
      // One tab stop for 20 messages with 3 reaction buttons each (61 Tab presses before the fix).
      const stops = () => [...log.querySelectorAll('[tabindex], button, a[href], input')].filter((el) => el.tabIndex >= 0);
      assert.equal(stops().length, 1, 'exactly one element of the list is in the tab order');
      assert.equal(stops()[0].textContent.includes('m20'), true, 'the newest message holds it');
      const newest = stops()[0];
      newest.focus();
      pressKey(newest, 'ArrowUp');
      assert.ok(document.activeElement.textContent.includes('m19'), 'ArrowUp: the previous message');
      await waitFor(() => stops().length === 1 && stops()[0] === document.activeElement, 2000, 'the stop follows focus');
      pressKey(document.activeElement, 'ArrowRight');
      assert.equal(document.activeElement.className.includes('tw-reaction'), true, 'ArrowRight: into its reactions');
      pressKey(document.activeElement, 'ArrowRight');
      assert.equal(document.activeElement.getAttribute('data-action'), '1');
      pressKey(document.activeElement, 'Escape');
      assert.ok(document.activeElement.textContent.includes('m19'), 'Escape: back to the message');
      pressKey(document.activeElement, 'Home');
      assert.ok(document.activeElement.textContent.includes('m1'));
      pressKey(document.activeElement, 'End');
      assert.ok(document.activeElement.textContent.includes('m20'));
      await waitFor(() => stops().length === 1, 2000, 'still one stop');
    } finally {
      view.unmount();
    }
  });

  test('the open room shows messages sent while this client was disconnected (its recovery failed): no room switch needed', { timeout: TIMEOUT }, async () => {
    const own = await startServer({ args: ['--history-size', '1'] });
    const pia = newClient('pia', FAST, own);
    const quin = newClient('quin', FAST, own);
    const room = await quin.chat.createRoom('away', { participants: ['pia'] });
    await quin.request('chat_send', { roomId: room.id, text: 'hello' });
    const view = mount(app(pia, h(Chat, { currentUserId: 'pia', allowCreate: false })));
    const texts = () => view.$$('[role="log"] .tw-message__text').map((el) => el.textContent);
    try {
      await waitFor(() => texts().join() === 'hello', 5000, 'the room');
      pia.disconnect();
      await waitFor(() => pia.state === 'disconnected', 3000, 'offline');
      await quin.request('chat_send', { roomId: room.id, text: 'while you were away' });
      await quin.request('chat_send', { roomId: room.id, text: 'and this' });
      pia.connect();
      await waitFor(() => texts().join() === 'hello,while you were away,and this', 5000, 'the missed messages in the open room');
      await quin.request('chat_send', { roomId: room.id, text: 'live' });
      await waitFor(() => texts().join() === 'hello,while you were away,and this,live', 3000, 'then live again');
    } finally {
      view.unmount();
      pia.close();
      quin.close();
      await own.stop();
    }
  });

  test('offline: the composer clears and the message shows as Sending…, then stored; a failed one has Retry', { timeout: TIMEOUT }, async () => {
    const mia = newClient('mia');
    const room = await mia.chat.createRoom('offline-view');
    const view = mount(app(mia, h(Chat, { currentUserId: 'mia', allowCreate: false })));
    const input = () => view.$('.tw-room-view input[type="text"]');
    const own = () => view.$$('.tw-message');
    try {
      await waitFor(() => view.$('[role="log"]')?.getAttribute('aria-label') === 'Messages in offline-view', 5000, 'the room');
      await mia.channel(`chat:${room.id}`).whenSubscribed();
      mia.disconnect();
      await waitFor(() => mia.state === 'disconnected', 3000, 'offline');
      typeInto(input(), 'typed offline');
      pressKey(input(), 'Enter');
      await waitFor(() => own().length === 1, 3000, 'shown at once');
      assert.equal(input().value, '', 'the composer cleared');
      assert.ok(own()[0].classList.contains('tw-message--pending'));
      assert.match(own()[0].querySelector('.tw-message__status').textContent, /Sending…/);
      typeInto(input(), 'will fail');
      pressKey(input(), 'Enter');
      await waitFor(() => own().length === 2, 3000, 'the second one');
      mia.clearOutbox(); // both fail
      await waitFor(() => own().every((li) => li.classList.contains('tw-message--failed')), 3000, 'failed');
      assert.match(own()[0].querySelector('.tw-message__status').textContent, /Not sent/);
      mia.connect();
      await waitFor(() => mia.state === 'connected', 5000, 'back online');
      click(own()[0].querySelector('.tw-retry'));
      await waitFor(() => own()[0].classList.length === 2 && own()[0].dataset.messageId.match(/^\d+$/), 3000, 'retried and stored');
      assert.deepEqual([...own()[0].classList].sort(), ['tw-message', 'tw-message--own']);
      click(own()[1].querySelector('.tw-discard'));
      await waitFor(() => own().length === 1, 3000, 'discarded');
      assert.equal(own()[0].querySelector('.tw-message__text').textContent, 'typed offline');
    } finally {
      view.unmount();
    }
  });

  test('the composer counts characters against 4,000, keeps a longer paste whole, and refuses it and blank text', { timeout: TIMEOUT }, async () => {
    const ned = newClient('ned');
    await ned.chat.createRoom('limits-view');
    const view = mount(app(ned, h(Chat, { currentUserId: 'ned', allowCreate: false })));
    const input = () => view.$('.tw-room-view input[type="text"]');
    const count = () => view.$('.tw-composer__count');
    const send = () => [...view.$$('.tw-room-view button')].find((b) => b.textContent === 'Send');
    try {
      await waitFor(() => input() !== null, 5000, 'the composer');
      assert.equal(input().getAttribute('maxlength'), null, 'no silent cut');
      assert.equal(input().getAttribute('aria-describedby'), count().id);
      typeInto(input(), 'x'.repeat(3980));
      await waitFor(() => count().textContent === '3,980 / 4,000', 2000, 'the count');
      assert.equal(send().disabled, false);
      typeInto(input(), 'x'.repeat(10000));
      await waitFor(() => count().textContent.startsWith('10,000 / 4,000'), 2000, 'over the limit');
      assert.equal(input().value.length, 10000, 'the paste is kept whole');
      assert.ok(count().classList.contains('tw-composer__count--over'));
      assert.equal(input().getAttribute('aria-invalid'), 'true');
      assert.equal(send().disabled, true);
      pressKey(input(), 'Enter');
      assert.equal(input().value.length, 10000, 'Enter does not send it');
      typeInto(input(), '\u200B\u200B \u2060');
      await waitFor(() => send().disabled === true && /invisible/.test(count().textContent), 2000, 'blank refused');
      typeInto(input(), '😀'.repeat(4000));
      await waitFor(() => count().textContent === '4,000 / 4,000', 2000, 'code points, not UTF-16 units');
      assert.equal(send().disabled, false);
    } finally {
      view.unmount();
    }
  });
});

describe('console', () => {
  test('React and tidewire logged no errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
