// Checks the harness itself: a scenario that never returns must be stopped by the timeout.

export function main(): void {
  for (let spin = 0; spin >= 0; spin = (spin + 1) & 0xffff);
}
