// The HTTP server's bytes-level vocabulary: every text it writes or compares with, encoded once into
// the stack's arena, and the byte helpers that write and compare them without allocating.

import type { Memory } from "../storage/memory.js";

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SLASH = 47;
export const QUESTION = 63;

/**
 * Every text the server writes or compares with, encoded once into its arena at start-up: reading
 * a string's characters allocates on XS, copying bytes does not.
 */
export const TEXTS: readonly string[] = Object.freeze([
  "HTTP/1.1 ",
  "OK",
  "Bad Request",
  "Not Found",
  "Method Not Allowed",
  "Not Implemented",
  "HTTP Version Not Supported",
  "\r\nServer: netstack\r\nContent-Type: ",
  "application/octet-stream",
  "text/plain",
  "\r\nContent-Length: ",
  "\r\nAllow: GET, HEAD",
  "\r\nConnection: close",
  "\r\nConnection: keep-alive",
  "\r\n\r\n",
  "bad request\n",
  "not supported\n",
  "not found\n",
  "method not allowed\n",
  "http/",
  "connection",
  "close",
  "keep-alive",
  "host",
  "content-length",
  "transfer-encoding",
  "GET",
  "HEAD",
  "/bytes/",
  "netstack\n",
  "time_ms ",
  "http_requests ",
  "http_sessions_active ",
  "http_bytes_out ",
  "tcp_connections ",
  "tcp_passive_opens ",
  "tcp_segments_in ",
  "tcp_segments_out ",
  "tcp_retransmits ",
  "tcp_syn_cookies_sent ",
  "tcp_listen_drops ",
  "tcp_challenge_acks ",
  "pool_free ",
  "pool_total ",
  "frames_in ",
  "frames_out ",
]);
export const T_HTTP11 = 0;
export const T_OK = 1;
export const T_BAD_REQUEST = 2;
export const T_NOT_FOUND = 3;
export const T_NOT_ALLOWED = 4;
export const T_NOT_IMPLEMENTED = 5;
export const T_BAD_VERSION = 6;
export const T_SERVER = 7;
export const T_BINARY = 8;
export const T_PLAIN = 9;
export const T_LENGTH = 10;
export const T_ALLOW = 11;
export const T_CLOSE_HEADER = 12;
export const T_KEEP_HEADER = 13;
export const T_END = 14;
export const T_BODY_BAD = 15;
export const T_BODY_UNSUPPORTED = 16;
export const T_BODY_NOT_FOUND = 17;
export const T_BODY_NOT_ALLOWED = 18;
export const T_HTTP_SLASH = 19;
export const T_CONNECTION = 20;
export const T_CLOSE = 21;
export const T_KEEP_ALIVE = 22;
export const T_HOST = 23;
export const T_CONTENT_LENGTH = 24;
export const T_TRANSFER_ENCODING = 25;
export const T_GET = 26;
export const T_HEAD = 27;
export const T_BYTES = 28;
export const T_NETSTACK = 29;
export const T_TIME = 30;
export const T_REQUESTS = 31;
export const T_ACTIVE = 32;
export const T_BYTES_OUT = 33;
export const T_CONNECTIONS = 34;
export const T_PASSIVE = 35;
export const T_SEG_IN = 36;
export const T_SEG_OUT = 37;
export const T_RETRANSMITS = 38;
export const T_COOKIES = 39;
export const T_LISTEN_DROPS = 40;
export const T_CHALLENGE = 41;
export const T_POOL_FREE = 42;
export const T_POOL_TOTAL = 43;
export const T_FRAMES_IN = 44;
export const T_FRAMES_OUT = 45;

/** A non-negative integer in decimal at `at`; returns the offset after it. */
export function putDecimal(bytes: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = digits - 1; i >= 0; i--) {
    bytes[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

/** RFC 9110 tchar: what a method or a header name is made of. */
export function isTokenChar(b: number): boolean {
  if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    b === 33 ||
    (b >= 35 && b <= 39) ||
    b === 42 ||
    b === 43 ||
    b === 45 ||
    b === 46 ||
    b === 94 ||
    b === 95 ||
    b === 96 ||
    b === 124 ||
    b === 126
  );
}

/** The reason phrase's text for a status the server sends. */
export function reason(status: number): number {
  switch (status) {
    case 200:
      return T_OK;
    case 400:
      return T_BAD_REQUEST;
    case 404:
      return T_NOT_FOUND;
    case 405:
      return T_NOT_ALLOWED;
    case 501:
      return T_NOT_IMPLEMENTED;
    default:
      return T_BAD_VERSION;
  }
}

/**
 * TEXTS in an arena: each text's offset and length, and the writes and comparisons against them.
 * Reading a string's characters allocates on XS, copying bytes does not.
 */
export class HttpTexts {
  /** Arena bytes all of TEXTS take. */
  static memoryNeeded(): number {
    let n = 0;
    for (let id = 0; id < TEXTS.length; id++) n += TEXTS[id].length;
    return n;
  }

  /** The arena the texts (and whatever is compared with them) live in. */
  readonly bytes: Uint8Array;
  /** Where each of TEXTS is in the arena, and its length. */
  readonly at: Int32Array;
  readonly length: Int32Array;

  constructor(memory: Memory) {
    const bytes = memory.bytes;
    this.bytes = bytes;
    this.at = new Int32Array(TEXTS.length);
    this.length = new Int32Array(TEXTS.length);
    let at = memory.take(HttpTexts.memoryNeeded());
    for (let id = 0; id < TEXTS.length; id++) {
      const text = TEXTS[id];
      this.at[id] = at;
      this.length[id] = text.length;
      for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    }
  }

  /** Text `id` written at `at`; returns the offset after it. */
  put(at: number, id: number): number {
    const bytes = this.bytes;
    const from = this.at[id];
    const length = this.length[id];
    for (let i = 0; i < length; i++) bytes[at + i] = bytes[from + i];
    return at + length;
  }

  /** Whether bytes[at, at + length) are text `id`. */
  equals(at: number, length: number, id: number): boolean {
    if (length !== this.length[id]) return false;
    const bytes = this.bytes;
    const from = this.at[id];
    for (let i = 0; i < length; i++) if (bytes[at + i] !== bytes[from + i]) return false;
    return true;
  }

  /** Whether bytes[at, at + length) are text `id` (lower case), ignoring case. */
  equalsIgnoreCase(at: number, length: number, id: number): boolean {
    if (length !== this.length[id]) return false;
    const bytes = this.bytes;
    const from = this.at[id];
    for (let i = 0; i < length; i++) if (lower(bytes[at + i]) !== bytes[from + i]) return false;
    return true;
  }

  /** Whether the comma-separated list in bytes[at, end) holds the token text `id`. */
  listHas(at: number, end: number, id: number): boolean {
    const bytes = this.bytes;
    let i = at;
    while (i < end) {
      while (i < end && (bytes[i] === SP || bytes[i] === HTAB || bytes[i] === 44)) i++;
      const start = i;
      while (i < end && bytes[i] !== 44) i++;
      let stop = i;
      while (stop > start && (bytes[stop - 1] === SP || bytes[stop - 1] === HTAB)) stop--;
      if (this.equalsIgnoreCase(start, stop - start, id)) return true;
    }
    return false;
  }
}
