// What Moddable's preload leaves behind, reproduced at run time so Node and the xsnap CLI can check
// that the stack still works afterwards: every function and class frozen with its prototype and
// static properties, every reachable object frozen deeply, module namespaces frozen. Buffers cannot
// be frozen in JavaScript (preload makes them read-only instead); they are counted and left alone.
//
// Runs under XS as well as Node, so it uses no Node API.

export interface FreezeSummary {
  /** Modules walked. */
  modules: number;
  functions: number;
  objects: number;
  /** ArrayBuffers and views reached: left writable, as JavaScript cannot freeze them. */
  buffers: number;
}

/** The built-in objects (and their prototypes) of this realm, which a module walk must not enter. */
export function intrinsics(): Set<object> {
  const found = new Set<object>();
  const add = (value: unknown): void => {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return;
    if (found.has(value)) return;
    found.add(value);
    add(Object.getPrototypeOf(value));
    if (typeof value === "function") {
      const prototype = (value as { prototype?: unknown }).prototype;
      add(prototype);
    }
  };
  const global = globalThis as unknown as Record<PropertyKey, unknown>;
  found.add(globalThis);
  for (const key of Reflect.ownKeys(globalThis)) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, key);
    if (descriptor && "value" in descriptor) add(global[key]);
  }
  // Prototypes only reachable through instances: iterators, generators, async functions.
  add(Object.getPrototypeOf([][Symbol.iterator]()));
  add(Object.getPrototypeOf(new Map()[Symbol.iterator]()));
  add(Object.getPrototypeOf(new Set()[Symbol.iterator]()));
  add(Object.getPrototypeOf(""[Symbol.iterator]()));
  add(Object.getPrototypeOf(function* () {}));
  add(Object.getPrototypeOf(async function () {}));
  add(Object.getPrototypeOf(async function* () {}));
  return found;
}

function isBuffer(value: object): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isNamespace(value: object): boolean {
  return Object.prototype.toString.call(value) === "[object Module]";
}

function freezeDeep(
  value: unknown,
  seen: Set<object>,
  skip: Set<object>,
  summary: FreezeSummary,
): void {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return;
  if (seen.has(value) || skip.has(value)) return;
  seen.add(value);
  if (isBuffer(value)) {
    summary.buffers++;
    return;
  }
  if (isNamespace(value)) {
    // A real namespace is already non-extensible and its bindings cannot be made read-only from
    // outside (V8 throws); a bundler's namespace object is a plain frozen object.
    if (Object.isExtensible(value)) throw new TypeError("freeze: extensible module namespace");
    if (!Object.isFrozen(value)) {
      try {
        Object.freeze(value);
      } catch {
        // V8: namespace bindings stay live by design.
      }
    }
  } else {
    Object.freeze(value);
    if (typeof value === "function") summary.functions++;
    else summary.objects++;
  }
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (!descriptor) continue;
    if ("value" in descriptor) freezeDeep(descriptor.value, seen, skip, summary);
    else {
      freezeDeep(descriptor.get, seen, skip, summary);
      freezeDeep(descriptor.set, seen, skip, summary);
    }
  }
  // A base class, or an object's non-built-in prototype.
  freezeDeep(Object.getPrototypeOf(value), seen, skip, summary);
}

/** Freezes every export of the given module namespaces, deeply, and the namespaces themselves. */
export function freezeModules(namespaces: readonly object[]): FreezeSummary {
  const summary: FreezeSummary = { modules: 0, functions: 0, objects: 0, buffers: 0 };
  const seen = new Set<object>();
  const skip = intrinsics();
  for (const namespace of namespaces) {
    summary.modules++;
    freezeDeep(namespace, seen, skip, summary);
  }
  return summary;
}

/**
 * Freezes the built-in constructors and their prototypes, as the XS linker does after preload.
 * Only for a fresh engine that runs nothing else (the XS bundle): the test runner's own globals
 * must stay writable under Node.
 */
export function freezeBuiltins(): number {
  let count = 0;
  for (const value of intrinsics()) {
    if (value === globalThis || isBuffer(value)) continue;
    if (!Object.isFrozen(value)) {
      Object.freeze(value);
      count++;
    }
  }
  return count;
}

/** Throws unless `value` and everything freezeModules would reach from it is frozen. */
export function assertDeepFrozen(value: unknown, path = "value"): void {
  const skip = intrinsics();
  const seen = new Set<object>();
  const visit = (item: unknown, where: string): void => {
    if (item === null || (typeof item !== "object" && typeof item !== "function")) return;
    if (seen.has(item) || skip.has(item) || isBuffer(item)) return;
    seen.add(item);
    if (isNamespace(item) ? Object.isExtensible(item) : !Object.isFrozen(item))
      throw new TypeError(`${where} is not frozen`);
    for (const key of Reflect.ownKeys(item)) {
      const descriptor = Object.getOwnPropertyDescriptor(item, key);
      if (descriptor && "value" in descriptor) visit(descriptor.value, `${where}.${String(key)}`);
    }
    visit(Object.getPrototypeOf(item), `${where}.[[Prototype]]`);
  };
  visit(value, path);
}
