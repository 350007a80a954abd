// Readiness events, with Linux's poll(2) bit values so the socket layer can pass them through.

export const EVENT_IN = 0x1;
export const EVENT_PRI = 0x2;
export const EVENT_OUT = 0x4;
export const EVENT_ERR = 0x8;
export const EVENT_HUP = 0x10;
export const EVENT_RDHUP = 0x2000;

/** Told when an endpoint's readiness changes; set once, when the socket is created. */
export interface Waiter {
  notify(events: number): void;
}
