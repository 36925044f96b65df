// tidewire demo: lobby chat. A plain ES module (no bundler, no framework) over the public API.
//
//   sign in  → GET /dev/token?user=NAME (the server must run with --dev-tokens)
//   connect  → createClient({ url: ws(s)://<this host>/ws, token })
//   listen   → client.channel('room:lobby').subscribe().on('chat', render)
//   send     → client.send('room:lobby', 'chat', { text })
//
// Open it in two tabs with two names: each tab sees the other's messages.
import { createClient } from './tidewire/index.js';

const params = new URLSearchParams(location.search);
const CHANNEL = params.get('channel') ?? 'room:lobby';
const EVENT = 'chat';
const MAX_MESSAGES = 200;
const NAME_KEY = 'tidewire-demo:name';

const $ = (id) => document.getElementById(id);
const ui = {
  state: $('state'),
  signin: $('signin'),
  name: $('name'),
  signinError: $('signin-error'),
  chat: $('chat'),
  channelName: $('channel-name'),
  me: $('me'),
  signout: $('signout'),
  messages: $('messages'),
  empty: $('empty'),
  composer: $('composer'),
  text: $('text'),
  sendError: $('send-error'),
};

/** The current session: { name, client, channel, stops[] } or null when signed out. */
let session = null;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** Fetches a development token for `name`; throws an Error whose message is fit to show. */
async function fetchToken(name) {
  let response;
  try {
    response = await fetch(`/dev/token?user=${encodeURIComponent(name)}`, { cache: 'no-store' });
  } catch (e) {
    throw new Error(`could not reach the server (${e.message})`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: handled below
  }
  if (!response.ok || typeof body?.token !== 'string') {
    if (response.status === 404) throw new Error('this server does not sign development tokens (start it with --dev-tokens)');
    throw new Error(body?.message ?? `the server answered ${response.status}`);
  }
  return body.token;
}

function showError(el, message) {
  el.textContent = message ?? '';
  el.hidden = !message;
}

function setState(state) {
  ui.state.textContent = state;
  ui.state.dataset.state = state;
  document.body.dataset.state = state;
}

function setSubscribed(subscribed) {
  document.body.dataset.subscribed = String(subscribed);
}

function renderMessage(message) {
  const { from, payload, ts, offset } = message;
  const text = typeof payload?.text === 'string' ? payload.text : JSON.stringify(payload);
  const li = document.createElement('li');
  li.className = 'message';
  if (session && from === session.name) li.classList.add('mine');
  li.dataset.from = from;
  li.dataset.offset = String(offset);

  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = from || 'anonymous';
  const when = document.createElement('time');
  const date = new Date(ts);
  when.dateTime = date.toISOString();
  when.textContent = timeFormat.format(date);
  meta.append(who, when);

  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = text;
  li.append(meta, body);

  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(li);
  while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
  ui.empty.hidden = true;
  if (atBottom || li.classList.contains('mine')) li.scrollIntoView({ block: 'end' });
}

async function signIn(name) {
  const firstToken = await fetchToken(name);
  // A token provider: the first connect uses the token we just fetched, every reconnect fetches a fresh one
  // (a 1 h development token may have expired by then).
  let pending = firstToken;
  const token = () => {
    if (pending !== undefined) {
      const t = pending;
      pending = undefined;
      return t;
    }
    return fetchToken(name);
  };
  const client = createClient({ url: wsUrl(), token });
  const channel = client.channel(CHANNEL).subscribe();
  const s = { name, client, channel, stops: [] };
  session = s;

  const watchSubscribed = () => {
    channel.whenSubscribed().then(
      () => {
        if (session === s && client.state === 'connected') setSubscribed(true);
      },
      () => undefined,
    );
  };
  s.stops.push(
    client.onStateChange(({ to }) => {
      if (session !== s) return;
      setState(to);
      if (to === 'connected') watchSubscribed();
      else setSubscribed(false);
    }),
    client.onError((error) => {
      if (session !== s) return;
      console.warn('[demo]', error.code, error.message);
      if (error.code === 'auth_failed' || error.code === 'token_provider_failed') showError(ui.sendError, error.message);
    }),
    channel.on(EVENT, renderMessage),
  );
  watchSubscribed();

  ui.me.textContent = name;
  ui.channelName.textContent = CHANNEL;
  ui.signin.hidden = true;
  ui.chat.hidden = false;
  ui.text.focus();
  // For poking at it from the console.
  globalThis.tidewireDemo = { client, channel };
}

function signOut() {
  const s = session;
  if (!s) return;
  session = null;
  for (const stop of s.stops) stop();
  s.client.close();
  delete globalThis.tidewireDemo;
  ui.messages.replaceChildren();
  ui.empty.hidden = false;
  showError(ui.sendError, null);
  ui.chat.hidden = true;
  ui.signin.hidden = false;
  setState('idle');
  setSubscribed(false);
  ui.name.focus();
}

ui.signin.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = ui.name.value.trim();
  if (!name) return;
  const button = ui.signin.querySelector('button');
  button.disabled = true;
  showError(ui.signinError, null);
  try {
    await signIn(name);
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch {
      // storage may be disabled
    }
  } catch (e) {
    showError(ui.signinError, `Could not sign in: ${e.message}`);
  } finally {
    button.disabled = false;
  }
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const s = session;
  const text = ui.text.value.trim();
  if (!s || !text) return;
  ui.text.value = '';
  showError(ui.sendError, null);
  // Queued by the client while offline; settles with the server's ack.
  s.client.send(CHANNEL, EVENT, { text }).catch((e) => {
    if (session !== s) return;
    showError(ui.sendError, `Not sent: ${e.message}`);
    if (!ui.text.value) ui.text.value = text;
  });
});

ui.signout.addEventListener('click', signOut);

try {
  ui.name.value = localStorage.getItem(NAME_KEY) ?? '';
} catch {
  // storage may be disabled
}
setState('idle');
setSubscribed(false);
document.body.dataset.ready = 'true';
