// Parsing an HTTP/1.1 request head (RFC 9112) in place, in the session's request buffer: one
// parser per server fills its fields for the head at hand and allocates nothing.

import {
  COLON,
  CR,
  HTAB,
  HttpTexts,
  LF,
  QUESTION,
  SLASH,
  SP,
  T_BYTES,
  T_CLOSE,
  T_CONNECTION,
  T_CONTENT_LENGTH,
  T_GET,
  T_HEAD,
  T_HOST,
  T_HTTP_SLASH,
  T_KEEP_ALIVE,
  T_TRANSFER_ENCODING,
  isTokenChar,
} from "./http-text.js";

export const METHOD_GET = 1;
export const METHOD_HEAD = 2;

/** The largest `/bytes/N`: fifteen digits keep N an exact integer. */
const MAX_LENGTH_DIGITS = 15;

/** What the request's path names: the status page, or nothing the server has. */
export const ROUTE_STATUS = -2;
export const ROUTE_NONE = -1;

export class HttpRequestParser {
  private readonly texts: HttpTexts;
  /** METHOD_GET, METHOD_HEAD, or 0 for any other method. */
  method = 0;
  /** Where the path (the target without its query) is in the arena, and its length. */
  pathAt = 0;
  pathLength = 0;
  keepAlive = false;
  /** Request body bytes the head announces. */
  contentLength = 0;

  constructor(texts: HttpTexts) {
    this.texts = texts;
  }

  /**
   * Parses the head in bytes[base, base + end); returns 0 with the fields set, or the status of
   * the error answer (400, 501, 505) when the head is bad.
   */
  parse(base: number, end: number): number {
    const t = this.texts;
    const bytes = t.bytes;
    let i = 0;
    // At least one empty line before the request line is ignored (RFC 9112 §2.2).
    while (i < end && (bytes[base + i] === CR || bytes[base + i] === LF)) i++;
    const methodAt = i;
    while (i < end && isTokenChar(bytes[base + i])) i++;
    const methodLength = i - methodAt;
    if (methodLength === 0 || bytes[base + i] !== SP) return 400;
    i++;
    const targetAt = i;
    while (i < end && bytes[base + i] > SP && bytes[base + i] < 127) i++;
    const targetEnd = i;
    if (targetEnd === targetAt || bytes[base + targetAt] !== SLASH || bytes[base + i] !== SP)
      return 400;
    i++;
    const versionAt = i;
    while (i < end && bytes[base + i] !== CR && bytes[base + i] !== LF) i++;
    const versionLength = i - versionAt;
    if (bytes[base + i] === CR) i++;
    if (bytes[base + i] !== LF) return 400;
    i++;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT
    if (
      versionLength !== 8 ||
      !t.equalsIgnoreCase(base + versionAt, 5, T_HTTP_SLASH) ||
      bytes[base + versionAt + 5] < 48 ||
      bytes[base + versionAt + 5] > 57 ||
      bytes[base + versionAt + 6] !== 46 ||
      bytes[base + versionAt + 7] < 48 ||
      bytes[base + versionAt + 7] > 57
    )
      return 400;
    const major = bytes[base + versionAt + 5] - 48;
    const minor = bytes[base + versionAt + 7] - 48;
    if (major !== 1) return 505;
    let keepAlive = minor >= 1;
    let hasHost = false;
    let contentLength = 0;
    let lengthSeen = false;

    // Header fields, one a line, to the empty line.
    while (i < end) {
      const lineAt = i;
      while (i < end && bytes[base + i] !== LF) i++;
      let lineEnd = i;
      i++;
      if (lineEnd > lineAt && bytes[base + lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === lineAt) break;
      let c = lineAt;
      while (c < lineEnd && isTokenChar(bytes[base + c])) c++;
      // No name, whitespace before the colon, or a folded line: 400 (RFC 9112 §5.1, §5.2).
      if (c === lineAt || c === lineEnd || bytes[base + c] !== COLON) return 400;
      const nameLength = c - lineAt;
      let v = c + 1;
      while (v < lineEnd && (bytes[base + v] === SP || bytes[base + v] === HTAB)) v++;
      let valueEnd = lineEnd;
      while (
        valueEnd > v &&
        (bytes[base + valueEnd - 1] === SP || bytes[base + valueEnd - 1] === HTAB)
      )
        valueEnd--;
      if (t.equalsIgnoreCase(base + lineAt, nameLength, T_CONNECTION)) {
        if (t.listHas(base + v, base + valueEnd, T_CLOSE)) keepAlive = false;
        else if (t.listHas(base + v, base + valueEnd, T_KEEP_ALIVE)) keepAlive = true;
      } else if (t.equalsIgnoreCase(base + lineAt, nameLength, T_HOST)) {
        if (hasHost) return 400;
        hasHost = true;
      } else if (t.equalsIgnoreCase(base + lineAt, nameLength, T_CONTENT_LENGTH)) {
        const n = this.decimal(base + v, base + valueEnd);
        if (n < 0) return 400;
        if (lengthSeen && n !== contentLength) return 400;
        lengthSeen = true;
        contentLength = n;
      } else if (t.equalsIgnoreCase(base + lineAt, nameLength, T_TRANSFER_ENCODING)) {
        // No chunked request bodies here: the body's end is unknown, so the connection closes.
        return 501;
      }
    }
    // HTTP/1.1 requires Host (RFC 9112 §3.2).
    if (minor >= 1 && !hasHost) return 400;

    // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
    this.method = t.equals(base + methodAt, methodLength, T_GET)
      ? METHOD_GET
      : t.equals(base + methodAt, methodLength, T_HEAD)
        ? METHOD_HEAD
        : 0;
    let pathEnd = targetAt;
    while (pathEnd < targetEnd && bytes[base + pathEnd] !== QUESTION) pathEnd++;
    this.pathAt = base + targetAt;
    this.pathLength = pathEnd - targetAt;
    this.keepAlive = keepAlive;
    this.contentLength = contentLength;
    return 0;
  }

  /**
   * What the path names: ROUTE_STATUS for `/`, N for `/bytes/N`, ROUTE_NONE otherwise. Judged
   * before the head leaves the buffer.
   */
  route(): number {
    const t = this.texts;
    const at = this.pathAt;
    const length = this.pathLength;
    if (length === 1) return ROUTE_STATUS;
    const prefix = t.length[T_BYTES];
    if (length <= prefix || length > prefix + MAX_LENGTH_DIGITS) return ROUTE_NONE;
    if (!t.equals(at, prefix, T_BYTES)) return ROUTE_NONE;
    const n = this.decimal(at + prefix, at + length);
    return n < 0 ? ROUTE_NONE : n;
  }

  /** The digits in bytes[at, end) as a number: -1 when empty, too long or not all digits. */
  private decimal(at: number, end: number): number {
    if (end === at || end - at > MAX_LENGTH_DIGITS) return -1;
    const bytes = this.texts.bytes;
    let n = 0;
    for (let i = at; i < end; i++) {
      const b = bytes[i];
      if (b < 48 || b > 57) return -1;
      n = n * 10 + (b - 48);
    }
    return n;
  }
}
