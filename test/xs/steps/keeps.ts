// A step that allocates an object per call and keeps it: retention shows up as live-slot growth.

const kept: object[] = [];

export function step(i: number): void {
  kept.push({ i });
}
