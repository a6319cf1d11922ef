// A WebSocket to one live channel that comes back by itself.
//
// It remembers the last stored message's `seq` and reconnects with `?after=<seq>` when the
// connection drops, waiting longer after each failed attempt (exponential backoff with jitter),
// so nothing said while it was away is missed (docs/live-protocol.md). The server refuses for
// good with 4401 / 4403 / 4404, and turns away a person with too many sockets open with 4429:
// then it stops and says why.

const FINAL_CLOSES = {
  4401: "Your session has ended: please log in again.",
  4403: "You may not enter here.",
  4404: "This room does not exist (any more).",
  4429: "Too many live connections open: close some tabs, then reload this page.",
};
const PING_EVERY_MS = 25000;

/** The ws:// or wss:// URL of a server path, on the page's own host. */
export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + window.location.host + path;
}

export class LiveSocket {
  /**
   * @param {string} path  e.g. "/ws/meetings/12"
   * @param {object} hooks onMessage(msg), onStatus(status, detail), onOpen(resumed)
   *   status: "connecting" | "open" | "reconnecting" | "closed"
   */
  constructor(path, hooks = {}) {
    this.path = path;
    this.onMessage = hooks.onMessage || (() => {});
    this.onStatus = hooks.onStatus || (() => {});
    this.onOpen = hooks.onOpen || (() => {});
    this.lastSeq = null; // null until the first snapshot: connect fresh
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.timer = null;
    this.pinger = null;
  }

  start() {
    this.stopped = false;
    this._connect();
    return this;
  }

  /** Drop the resume point and connect again: the server sends a fresh snapshot. */
  resync() {
    this.lastSeq = null;
    const old = this.ws;
    this.ws = null; // its close event is then ignored
    window.clearTimeout(this.timer);
    if (old) {
      old.close(1000, "resync");
    }
    this.attempt = 0;
    this._connect();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.clearInterval(this.pinger);
    if (this.ws) {
      this.ws.close(1000, "bye");
    }
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a message; false when the socket is not open (the caller decides whether to retry). */
  send(message) {
    if (!this.isOpen) {
      return false;
    }
    this.ws.send(JSON.stringify(message));
    return true;
  }

  _connect() {
    const resumed = this.lastSeq !== null;
    const url = socketUrl(this.path) + (resumed ? "?after=" + encodeURIComponent(this.lastSeq) : "");
    this.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this._retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.onStatus("open");
      this.onOpen(resumed);
      window.clearInterval(this.pinger);
      this.pinger = window.setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (typeof message.seq === "number") {
        // Ephemeral messages carry the last stored seq the connection saw: never larger.
        if (this.lastSeq === null || message.seq > this.lastSeq) {
          this.lastSeq = message.seq;
        }
      }
      this.onMessage(message);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) {
        return; // replaced by resync()
      }
      window.clearInterval(this.pinger);
      this.ws = null;
      if (this.stopped) {
        this.onStatus("closed");
        return;
      }
      if (FINAL_CLOSES[event.code]) {
        this.stopped = true;
        this.onStatus("closed", FINAL_CLOSES[event.code]);
        return;
      }
      this._retry();
    });
  }

  _retry() {
    this.attempt += 1;
    // 0.5 s, 1 s, 2 s … up to 15 s, each with up to a third of random jitter so that
    // a whole event's browsers do not come back in the same instant after a restart.
    const base = Math.min(15000, 500 * 2 ** (this.attempt - 1));
    const delay = base + Math.random() * base / 3;
    this.onStatus("reconnecting", Math.round(delay / 1000));
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this._connect(), delay);
  }
}

/** Milliseconds between the server's clock and ours, from a snapshot's server_time. */
export function clockOffset(serverTime) {
  const server = Date.parse(serverTime);
  return Number.isNaN(server) ? 0 : server - Date.now();
}

/** "12:05" style remaining time; "0:00" once past. */
export function formatLeft(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? hours + ":" + String(minutes).padStart(2, "0") + ":" + seconds : minutes + ":" + seconds;
}

function format(iso, zone, options) {
  try {
    return new Intl.DateTimeFormat(undefined, Object.assign({ hourCycle: "h23", timeZone: zone }, options)).format(
      new Date(iso),
    );
  } catch (err) {
    // An unknown zone: the browser's own.
    return new Intl.DateTimeFormat(undefined, Object.assign({ hourCycle: "h23" }, options)).format(new Date(iso));
  }
}

/** A time of day in the event's zone, 24-hour as on the server's pages, e.g. "10:20". */
export function timeIn(iso, zone) {
  return format(iso, zone, { hour: "2-digit", minute: "2-digit" });
}

/** A day and time in the event's zone, e.g. "Wed 16 Dec, 09:00". */
export function dayTimeIn(iso, zone) {
  return format(iso, zone, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** "Starts in 4:59" within a day; beyond, "Starts Wed 16 Dec, 09:00". */
export function startsIn(ms, iso, zone) {
  return ms > DAY_MS ? "Starts " + dayTimeIn(iso, zone) : "Starts in " + formatLeft(ms);
}

/** Build an element: el("p", {class: "meta"}, "text", child, …). Text goes in as text, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key === "class") {
      node.className = value;
    } else if (key === "text") {
      node.textContent = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}
