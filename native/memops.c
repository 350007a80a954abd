/*
 * Host functions behind native/memops.js: copies and Internet-checksum sums over any two byte
 * arrays at memory speed and without allocating. Same contract as src/memops.ts: copy is a
 * memmove clamped to both arrays (negative offsets copy nothing); the sum is RFC 1071 in network
 * byte order, folded to 16 bits and added to `initial`, not inverted.
 *
 * Buffer pointers are taken last: nothing between xsmcGetBuffer* and the last use allocates, so
 * the garbage collector cannot move the chunks in between.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "xsmc.h"

void xs_netstack_copy(xsMachine *the)
{
	xsIntegerValue dstOffset = xsmcToInteger(xsArg(1));
	xsIntegerValue srcOffset = xsmcToInteger(xsArg(3));
	xsIntegerValue length = xsmcToInteger(xsArg(4));
	void *dst;
	void *src;
	xsUnsignedValue dstLength;
	xsUnsignedValue srcLength;

	if ((dstOffset < 0) || (srcOffset < 0) || (length <= 0))
		return;
	xsmcGetBufferWritable(xsArg(0), &dst, &dstLength);
	xsmcGetBufferReadable(xsArg(2), &src, &srcLength);
	if ((xsUnsignedValue)dstOffset >= dstLength || (xsUnsignedValue)srcOffset >= srcLength)
		return;
	if ((xsUnsignedValue)length > dstLength - (xsUnsignedValue)dstOffset)
		length = (xsIntegerValue)(dstLength - (xsUnsignedValue)dstOffset);
	if ((xsUnsignedValue)length > srcLength - (xsUnsignedValue)srcOffset)
		length = (xsIntegerValue)(srcLength - (xsUnsignedValue)srcOffset);
	memmove((uint8_t *)dst + dstOffset, (uint8_t *)src + srcOffset, (size_t)length);
}

static uint32_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

void xs_netstack_ones_sum(xsMachine *the)
{
	xsIntegerValue offset = xsmcToInteger(xsArg(1));
	xsIntegerValue length = xsmcToInteger(xsArg(2));
	xsNumberValue initial = xsmcToNumber(xsArg(3));
	uint64_t sum = 0;
	uint64_t start = 0;
	const uint8_t *p;
	void *data;
	xsUnsignedValue count;

	/* Large initial sums fold like the portable version's; negative ones are not sums. */
	if (initial > 0)
		start = (initial < 18446744073709551615.0) ? (uint64_t)initial : UINT64_MAX;
	if ((offset < 0) || (length < 0))
		length = 0;
	xsmcGetBufferReadable(xsArg(0), &data, &count);
	if ((xsUnsignedValue)offset > count)
		length = 0;
	else if ((xsUnsignedValue)length > count - (xsUnsignedValue)offset)
		length = (xsIntegerValue)(count - (xsUnsignedValue)offset);
	p = (const uint8_t *)data + offset;

	/* Four bytes at a time in host order (RFC 1071 2B: the order is swapped back after), read with
	 * memcpy so any alignment is fine; a uint64_t takes 2^32 words before it could carry out. */
	while (length >= 16) {
		uint32_t a, b, c, d;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		sum += (uint64_t)a + b + c + d;
		p += 16;
		length -= 16;
	}
	while (length >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		length -= 2;
	}
	{
		uint32_t folded;
#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
		if (length)
			sum += (uint32_t)p[0] << 8;
		folded = fold(sum);
#else
		if (length)
			sum += p[0];
		folded = fold(sum);
		folded = ((folded & 0xff) << 8) | (folded >> 8);
#endif
		sum = (uint64_t)folded + fold(start);
	}
	xsmcSetInteger(xsResult, (xsIntegerValue)fold(sum));
}
