// An HTTP/1.1 GET client written against ECMA-419 only: it is handed a TCP class the way
// Moddable's own HTTP client is (`{socket: {io: TCP}}`, as in device.network), and, to fetch by
// name, a resolver class the same way (`{dns: {io: Resolver, servers}}`: it resolves `host` with
// Moddable's resolve({host, onResolved, onError}) before it connects), so it runs over Moddable's
// built-in sockets or over netstack's. It writes the request when onWritable says
// there is room, reads into one preallocated buffer with read(view), and parses the status line,
// the headers it needs (Content-Length, chunked transfer coding is not taken: it asks for
// HTTP/1.1 with Connection: close and reads to the end when no length is given), and the body.

/** The part of ECMA-419's TCP socket this client uses. */
export interface TCPSocket {
  write(data: ArrayBufferLike | ArrayBufferView): number;
  read(view: ArrayBufferView): number | ArrayBuffer | undefined;
  close(): void;
}

export interface TCPSocketOptions {
  address: string;
  port: number;
  onWritable(this: TCPSocket, bytes: number): void;
  onReadable(this: TCPSocket, bytes: number): void;
  onError(this: TCPSocket): void;
}

/** The part of a DNS resolver (Moddable's `embedded:network/dns/resolver/udp`) this client uses. */
export interface DNSResolver {
  resolve(options: {
    host: string;
    onResolved(host: string, address: string): void;
    onError(host: string): void;
  }): void;
  close(): void;
}

export interface HTTPGetOptions {
  socket: { io: new (options: TCPSocketOptions) => TCPSocket };
  /** The server's address; without it, `host` is resolved through `dns`. */
  address?: string;
  dns?: { io: new (options: { servers?: string[] }) => DNSResolver; servers?: string[] };
  port?: number;
  host?: string;
  path?: string;
  /** Body bytes as they come: `bytes[0 ..+ length)`, valid during the call only. */
  onBody?(bytes: Uint8Array, length: number): void;
  /** The response is over: the status, or -1 when the connection failed first. */
  onDone?(status: number, bodyLength: number): void;
}

const CR = 13;
const LF = 10;

export class HTTPGet {
  status = -1;
  contentLength = -1;
  bodyLength = 0;
  readonly headers = new Map<string, string>();
  #options: HTTPGetOptions;
  #socket: TCPSocket | null = null;
  #request: Uint8Array;
  #sent = false;
  #buffer = new Uint8Array(2048);
  /** Header bytes held until the blank line. */
  #head: number[] = [];
  #inBody = false;
  #done = false;

  constructor(options: HTTPGetOptions) {
    this.#options = options;
    const host = options.host ?? options.address ?? "";
    const text = `GET ${options.path ?? "/"} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    this.#request = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) this.#request[i] = text.charCodeAt(i);
    if (options.address !== undefined) {
      this.#connect(options.address);
      return;
    }
    const dns = options.dns;
    if (dns === undefined || options.host === undefined)
      throw new Error("HTTPGet: an address, or a host and a dns resolver");
    const client = this;
    const resolver = new dns.io({ servers: dns.servers });
    resolver.resolve({
      host: options.host,
      onResolved(_host: string, address: string) {
        resolver.close();
        client.address = address;
        client.#connect(address);
      },
      onError() {
        resolver.close();
        client.#finish();
      },
    });
  }

  /** The address connected to (resolved from `host` when no address was given). */
  address = "";

  #connect(address: string): void {
    const options = this.#options;
    this.address = address;
    const client = this;
    this.#socket = new options.socket.io({
      address,
      port: options.port ?? 80,
      onWritable(bytes: number) {
        if (client.#sent || bytes < client.#request.length) return;
        client.#sent = true;
        this.write(client.#request);
      },
      onReadable(bytes: number) {
        client.#readable(bytes);
      },
      onError() {
        client.#finish();
      },
    });
  }

  #readable(bytes: number): void {
    const buffer = this.#buffer;
    while (bytes > 0 && !this.#done) {
      const n = (this.#socket as TCPSocket).read(buffer) as number;
      if (n <= 0) break;
      bytes -= n;
      let at = 0;
      if (!this.#inBody) at = this.#parseHead(buffer, n);
      if (this.#inBody && at < n) this.#body(buffer, at, n - at);
    }
  }

  /** Collects header bytes; returns where the body starts in `buffer` (n when it does not yet). */
  #parseHead(buffer: Uint8Array, n: number): number {
    const head = this.#head;
    for (let i = 0; i < n; i++) {
      head.push(buffer[i]);
      const k = head.length;
      if (
        k >= 4 &&
        head[k - 4] === CR &&
        head[k - 3] === LF &&
        head[k - 2] === CR &&
        head[k - 1] === LF
      ) {
        const lines = String.fromCharCode(...head).split("\r\n");
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
        this.status = status === null ? 0 : Number(status[1]);
        for (let j = 1; j < lines.length; j++) {
          const colon = lines[j].indexOf(":");
          if (colon > 0)
            this.headers.set(
              lines[j].slice(0, colon).trim().toLowerCase(),
              lines[j].slice(colon + 1).trim(),
            );
        }
        const length = this.headers.get("content-length");
        if (length !== undefined) this.contentLength = Number(length);
        this.#inBody = true;
        if (this.contentLength === 0) this.#finish();
        return i + 1;
      }
    }
    return n;
  }

  #body(buffer: Uint8Array, at: number, length: number): void {
    if (this.contentLength >= 0 && this.bodyLength + length > this.contentLength)
      length = this.contentLength - this.bodyLength;
    this.bodyLength += length;
    const onBody = this.#options.onBody;
    if (onBody !== undefined) onBody(at === 0 ? buffer : buffer.subarray(at), length);
    if (this.contentLength >= 0 && this.bodyLength >= this.contentLength) this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#socket !== null) this.#socket.close();
    const onDone = this.#options.onDone;
    if (onDone !== undefined) onDone(this.status, this.bodyLength);
  }
}
