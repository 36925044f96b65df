// The JS half of the module's API, linked with --post-js: it runs inside the Emscripten factory, next to the
// glue's HEAPU8, _malloc, _free and the tw_* exports, and puts WasmClient on the module (declared in
// tidewire_module.d.mts; the state containers live in their own module, web/src/state_module.ts). Plain exports instead of embind: see
// tidewire_module.cpp. Strings go in as UTF-8 in one malloc'd block per call (TextEncoder.encodeInto) and come
// back as (pointer, length) or NUL-terminated text, decoded with TextDecoder.

// The glue's `new WebSocket(url, protocols)` (websocket.h) finds this function before the global: it builds the
// class the loader set as Module.WebSocket (web/src/module.ts does in Node 20, which has no global WebSocket,
// without touching globalThis), else the global one.
var WebSocket = function (url, protocols) {
  var Socket = Module['WebSocket'] || globalThis.WebSocket;
  return protocols === undefined ? new Socket(url) : new Socket(url, protocols);
};

/** @type {Array<object | undefined>} the callbacks of each live client, by listener id (used by js_listener.cpp) */
var twListeners = [undefined];
var twEncoder = new TextEncoder();
var twDecoder = new TextDecoder();

/** UTF-8 (ptr, len) in wasm memory → string. */
function twText(ptr, len) {
  ptr >>>= 0;
  len >>>= 0;
  return len === 0 ? '' : twDecoder.decode(HEAPU8.subarray(ptr, ptr + len));
}

/** NUL-terminated UTF-8 in wasm memory → string. */
function twCText(ptr) {
  ptr >>>= 0;
  if (ptr === 0) return '';
  var end = ptr;
  while (HEAPU8[end] !== 0) end++;
  return twDecoder.decode(HEAPU8.subarray(ptr, end));
}

/**
 * Calls fn(ptr1, len1, ptr2, len2, …) with each string (or Uint8Array) copied into wasm memory, then frees it.
 * One block per call, so a callback into JS that calls back into wasm never overwrites these arguments.
 */
function twWith(values, fn) {
  var cap = 1;
  for (var i = 0; i < values.length; i++) {
    var v = values[i];
    cap += typeof v === 'string' ? v.length * 3 : v.length;
  }
  var base = _malloc(cap);
  if (base === 0) throw new Error('tidewire: out of wasm memory (' + cap + ' bytes); send smaller messages');
  var args = [];
  var at = base;
  for (var j = 0; j < values.length; j++) {
    var value = values[j];
    var len;
    if (typeof value === 'string') {
      len = twEncoder.encodeInto(value, HEAPU8.subarray(at, at + value.length * 3)).written;
    } else {
      HEAPU8.set(value, at);
      len = value.length;
    }
    args.push(at, len);
    at += len;
  }
  try {
    return fn.apply(null, args);
  } finally {
    _free(base);
  }
}

/** The wasm handle of a wrapper, or an Error saying it was deleted. */
function twHandle(self, name) {
  if (self._h === 0) throw new Error('tidewire: this ' + name + ' was deleted; create a new one');
  return self._h;
}

class WasmClient {
  constructor(options, callbacks) {
    var id = twListeners.indexOf(undefined, 1); // reuse the slot of a deleted client
    if (id < 0) id = twListeners.length;
    twListeners[id] = callbacks;
    this._id = id;
    this._h = twWith([JSON.stringify(options)], function (p, n) {
      return _tw_client_new(id, p, n);
    });
    if (this._h === 0) {
      twListeners[id] = undefined;
      throw new Error('tidewire: client options must be a plain object');
    }
  }
  subscribe(channel) {
    var h = twHandle(this, 'WasmClient');
    return twWith([channel], function (p, n) {
      return _tw_client_subscribe(h, p, n);
    });
  }
  unsubscribe(channelId) {
    _tw_client_unsubscribe(twHandle(this, 'WasmClient'), channelId);
  }
  resubscribe(channelId) {
    _tw_client_resubscribe(twHandle(this, 'WasmClient'), channelId);
  }
  publish(channel, event, payloadJson, ttlMs) {
    var h = twHandle(this, 'WasmClient');
    return twWith([channel, event, payloadJson], function (cp, cn, ep, en, pp, pn) {
      return _tw_client_publish(h, cp, cn, ep, en, pp, pn, ttlMs);
    });
  }
  publishBinary(channel, event, bytes, ttlMs) {
    var h = twHandle(this, 'WasmClient');
    return twWith([channel, event, bytes], function (cp, cn, ep, en, bp, bn) {
      return _tw_client_publish_binary(h, cp, cn, ep, en, bp, bn, ttlMs);
    });
  }
  request(type, bodyJson, ttlMs) {
    var h = twHandle(this, 'WasmClient');
    return twWith([type, bodyJson], function (tp, tn, bp, bn) {
      return _tw_client_request(h, tp, tn, bp, bn, ttlMs);
    });
  }
  notify(type, bodyJson) {
    var h = twHandle(this, 'WasmClient');
    return twWith([type, bodyJson], function (tp, tn, bp, bn) {
      return _tw_client_notify(h, tp, tn, bp, bn);
    });
  }
  outboxEntries() {
    return JSON.parse(twCText(_tw_client_outbox_entries(twHandle(this, 'WasmClient'))));
  }
  clearOutbox() {
    return _tw_client_clear_outbox(twHandle(this, 'WasmClient'));
  }
  setPageVisible(visible) {
    _tw_client_set_page_visible(twHandle(this, 'WasmClient'), visible ? 1 : 0);
  }
  setOnline(online) {
    _tw_client_set_online(twHandle(this, 'WasmClient'), online ? 1 : 0);
  }
  probe() {
    _tw_client_probe(twHandle(this, 'WasmClient'));
  }
  connect() {
    _tw_client_connect(twHandle(this, 'WasmClient'));
  }
  disconnect() {
    _tw_client_disconnect(twHandle(this, 'WasmClient'));
  }
  reconnect() {
    _tw_client_reconnect(twHandle(this, 'WasmClient'));
  }
  setToken(token) {
    var h = twHandle(this, 'WasmClient');
    twWith([token], function (p, n) {
      _tw_client_set_token(h, p, n);
    });
  }
  tokenFailed(message) {
    var h = twHandle(this, 'WasmClient');
    twWith([message], function (p, n) {
      _tw_client_token_failed(h, p, n);
    });
  }
  tokenRefused(message) {
    var h = twHandle(this, 'WasmClient');
    twWith([message], function (p, n) {
      _tw_client_token_refused(h, p, n);
    });
  }
  setReconnectPolicy(baseMs, capMs, maxAttempts) {
    _tw_client_set_reconnect_policy(twHandle(this, 'WasmClient'), baseMs, capMs, maxAttempts);
  }
  channel(channelId) {
    var bits = _tw_client_channel(twHandle(this, 'WasmClient'), channelId);
    var refs = Math.floor(bits / 4);
    return { id: refs > 0 ? channelId : 0, refs: refs, subscribed: (bits & 1) !== 0, revoked: (bits & 2) !== 0 };
  }
  state() {
    return twCText(_tw_client_state(twHandle(this, 'WasmClient')));
  }
  connectionId() {
    return twCText(_tw_client_connection_id(twHandle(this, 'WasmClient')));
  }
  userId() {
    return twCText(_tw_client_user_id(twHandle(this, 'WasmClient')));
  }
  metrics() {
    return JSON.parse(twCText(_tw_client_metrics(twHandle(this, 'WasmClient'))));
  }
  /** Closes the socket and frees the client. Further calls throw; a second delete() does nothing. */
  delete() {
    if (this._h === 0) return;
    _tw_client_delete(this._h);
    this._h = 0;
    twListeners[this._id] = undefined;
  }
  static statusMessage(status) {
    return twCText(_tw_status_message(status));
  }
}

Module['WasmClient'] = WasmClient;
/** Diagnostics: how many clients are alive in wasm (a leak test watches it). */
Module['liveObjects'] = function () {
  return _tw_live_objects();
};
