// Checks the harness itself: an exception in main() must reach the test, not vanish.

import { check } from "../report.js";

export function main(): void {
  check("before-throw", true);
  throw new RangeError("scenario failed on purpose");
}
