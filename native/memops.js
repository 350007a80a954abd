// The Moddable build of src/memops.ts: the same two functions as host functions in memops.c, a
// memmove and a C checksum loop. manifest.json maps "netstack/src/memops" here, so every module
// that imports "../memops.js" gets these on a device, and the portable file everywhere else.
// Keep the signatures and semantics in step with src/memops.ts.

/**
 * Copies `length` bytes from `src[srcOffset..]` to `dst[dstOffset..]` (memmove), clamped to both
 * arrays. Both are Uint8Arrays (any byte view Moddable's buffer access takes).
 */
function copy(dst, dstOffset, src, srcOffset, length) @ "xs_netstack_copy";

/**
 * The ones'-complement sum (RFC 1071) of `bytes[offset .. offset + length)` in network order,
 * added to `initial` and folded to 16 bits, not inverted.
 */
function onesSum(bytes, offset, length, initial) @ "xs_netstack_ones_sum";

export { copy, onesSum };
