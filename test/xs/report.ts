// How scenarios report, under XS (the xsnap CLI's `print`) and under Node (a `print` the test
// installs): one line per fact. test/support/xs.ts parses these lines.

declare function print(...values: unknown[]): void;

/** A value the test compares between engines: `name=value`. */
export function value(name: string, result: string | number | boolean): void {
  print(`${name}=${String(result)}`);
}

/** A check the scenario makes itself: `check name ok` or `check name FAIL detail`. */
export function check(name: string, ok: boolean, detail = ""): void {
  print(ok ? `check ${name} ok` : `check ${name} FAIL ${detail}`);
}

/** check() that `actual === expected`, saying both when not. */
export function same(name: string, actual: unknown, expected: unknown): void {
  check(name, actual === expected, `got ${String(actual)}, expected ${String(expected)}`);
}

/** Hex of `bytes[offset .. offset + length)`, for compact byte comparisons. */
export function hex(bytes: Uint8Array, offset: number, length: number): string {
  let text = "";
  for (let i = offset; i < offset + length; i++)
    text += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return text;
}
