// Readiness, in the shape of gVisor's waiter package: an endpoint owns a Queue of entries, each
// entry asks for a mask of events, and notify(mask) calls every entry whose mask meets it. Event
// values are Linux's poll(2) bits, so the socket layer passes them through.
//
// The stack never notifies from inside packet input: endpoints raise events into the stack's
// ReadyList, which delivers them after the input pass. An application that writes or closes from
// its callback therefore never re-enters the stack mid-segment.

/** Readable: data (or a connection to accept) waits. */
export const EVENT_IN = 0x1;
export const EVENT_PRI = 0x2;
/** Writable: a send would not be refused with -EAGAIN. */
export const EVENT_OUT = 0x4;
/** An error is pending (read it with takeError()). */
export const EVENT_ERR = 0x8;
/** The connection is shut both ways or reset. */
export const EVENT_HUP = 0x10;
export const EVENT_RDHUP = 0x2000;

/** What a waiter entry calls: gVisor's EntryCallback. */
export interface EntryCallback {
  /** Called after a poll in which events among the entry's mask happened. */
  callback(entry: WaiterEntry, events: number): void;
}

/** One registration on a queue; made once and reused, so waiting allocates nothing. */
export class WaiterEntry {
  /** What is called back; null to call nothing. */
  callback: EntryCallback | null;
  /** Events this entry wants. */
  mask = 0;
  /** Free for the owner (the socket layer keeps its socket here). */
  context: unknown = null;
  /** @internal */
  queue: WaiterQueue | null = null;
  /** @internal */
  next: WaiterEntry | null = null;
  /** @internal */
  prev: WaiterEntry | null = null;

  constructor(callback: EntryCallback | null = null) {
    this.callback = callback;
  }
}

export class WaiterQueue {
  private head: WaiterEntry | null = null;
  private tail: WaiterEntry | null = null;

  /** Adds `entry` for the events in `mask`; an entry already on a queue is moved here. */
  eventRegister(entry: WaiterEntry, mask: number): void {
    if (entry.queue !== null) entry.queue.eventUnregister(entry);
    entry.mask = mask;
    entry.queue = this;
    entry.next = null;
    entry.prev = this.tail;
    if (this.tail !== null) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
  }

  eventUnregister(entry: WaiterEntry): void {
    if (entry.queue !== this) return;
    if (entry.prev !== null) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.next = null;
    entry.prev = null;
    entry.queue = null;
  }

  /** Calls every entry interested in any of `mask`, with the events it asked for. */
  notify(mask: number): void {
    let entry = this.head;
    while (entry !== null) {
      // Read the successor first: a callback may unregister its own entry.
      const next = entry.next;
      const events = entry.mask & mask;
      if (events !== 0 && entry.callback !== null) entry.callback.callback(entry, events);
      entry = next;
    }
  }

  /** The union of what the registered entries want. */
  get interest(): number {
    let mask = 0;
    for (let entry = this.head; entry !== null; entry = entry.next) mask |= entry.mask;
    return mask;
  }

  get isEmpty(): boolean {
    return this.head === null;
  }

  /** Drops every registration (the socket is closing). */
  clear(): void {
    while (this.head !== null) this.eventUnregister(this.head);
  }
}

/** Something that raises readiness events: an endpoint. */
export class EventSource {
  readonly waiters = new WaiterQueue();
  /** Events raised since the last delivery. */
  pendingEvents = 0;
  /** Link in the ReadyList while events are pending. */
  nextReady: EventSource | null = null;
  queuedReady = false;
}

/** Endpoints with events to deliver, in the order they were raised. */
export class ReadyList {
  private head: EventSource | null = null;
  private tail: EventSource | null = null;

  get isEmpty(): boolean {
    return this.head === null;
  }

  raise(source: EventSource, events: number): void {
    source.pendingEvents |= events;
    if (source.queuedReady) return;
    source.queuedReady = true;
    source.nextReady = null;
    if (this.tail !== null) this.tail.nextReady = source;
    else this.head = source;
    this.tail = source;
  }

  /** Forgets a source (closed), so nothing is delivered to it. */
  cancel(source: EventSource): void {
    source.pendingEvents = 0;
    if (!source.queuedReady) return;
    let previous: EventSource | null = null;
    for (let s = this.head; s !== null; previous = s, s = s.nextReady) {
      if (s !== source) continue;
      if (previous !== null) previous.nextReady = s.nextReady;
      else this.head = s.nextReady;
      if (this.tail === s) this.tail = previous;
      break;
    }
    source.queuedReady = false;
    source.nextReady = null;
  }

  /** Delivers every pending event; events raised by the callbacks are delivered too. */
  deliver(): void {
    for (let source = this.head; source !== null; source = this.head) {
      this.head = source.nextReady;
      if (this.head === null) this.tail = null;
      source.nextReady = null;
      source.queuedReady = false;
      const events = source.pendingEvents;
      source.pendingEvents = 0;
      if (events !== 0) source.waiters.notify(events);
    }
  }
}
