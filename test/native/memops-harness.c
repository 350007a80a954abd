/* Runs native/memops.c against plain byte-by-byte references over random arguments, including
 * out-of-range ones, and prints "ok <cases>" or the first difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../native/memops.c"

static uint32_t state = 12345;
static uint32_t next(void)
{
	state ^= state << 13;
	state ^= state >> 17;
	state ^= state << 5;
	return state;
}

static void refCopy(uint8_t *dst, int dstLength, int dstOffset, const uint8_t *src, int srcLength,
	int srcOffset, int length)
{
	uint8_t temp[70000];
	if (dstOffset < 0 || srcOffset < 0) return;
	if (length > dstLength - dstOffset) length = dstLength - dstOffset;
	if (length > srcLength - srcOffset) length = srcLength - srcOffset;
	if (length <= 0) return;
	for (int i = 0; i < length; i++) temp[i] = src[srcOffset + i];
	for (int i = 0; i < length; i++) dst[dstOffset + i] = temp[i];
}

static uint32_t refSum(const uint8_t *bytes, int count, int offset, int length, double initial)
{
	uint64_t sum = (uint64_t)initial;
	if (offset < 0 || length < 0 || offset > count) length = 0;
	else if (length > count - offset) length = count - offset;
	for (int i = 0; i < length; i++) sum += (i & 1) ? bytes[offset + i] : (uint32_t)bytes[offset + i] << 8;
	while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

int main(void)
{
	static uint8_t arena[70000], mirror[70000], other[70000];
	xsMachine machine, *the = &machine;
	int cases = 0;
	for (int i = 0; i < 70000; i++) arena[i] = (uint8_t)next(), other[i] = (uint8_t)next();
	for (int round = 0; round < 20000; round++, cases++) {
		int oneBuffer = next() & 1;
		int dstAt = next() % 64, srcAt = next() % 64;
		int dstLength = next() % 3000, srcLength = next() % 3000;
		int dstOffset = (int)(next() % 3100) - 50, srcOffset = (int)(next() % 3100) - 50;
		int length = (round % 50 == 0) ? (int)(next() % 66000) : (int)(next() % 3100) - 50;
		uint8_t *src = (oneBuffer ? arena : other) + srcAt;
		uint8_t *msrc = (oneBuffer ? mirror : other) + srcAt;
		if (length > 3100) dstLength = srcLength = 66000, dstAt = srcAt = 0, oneBuffer = 0, src = other, msrc = other;
		memcpy(mirror, arena, sizeof arena);
		machine.args[0].data = arena + dstAt; machine.args[0].count = dstLength;
		machine.args[1].number = dstOffset;
		machine.args[2].data = src; machine.args[2].count = srcLength;
		machine.args[3].number = srcOffset;
		machine.args[4].number = length;
		xs_netstack_copy(the);
		refCopy(mirror + dstAt, dstLength, dstOffset, msrc, srcLength, srcOffset, length);
		if (memcmp(mirror, arena, sizeof arena) != 0) {
			printf("copy differs: round %d dst %d+%d/%d src %d+%d/%d length %d\n", round, dstAt, dstOffset,
				dstLength, srcAt, srcOffset, srcLength, length);
			return 1;
		}
		double initial = (round % 7 == 0) ? 4294967296.0 * (next() % 5) + next() : (double)(next() % 0x40000);
		machine.args[0].data = other + srcAt; machine.args[0].count = srcLength;
		machine.args[1].number = srcOffset;
		machine.args[2].number = length;
		machine.args[3].number = initial;
		xs_netstack_ones_sum(the);
		uint32_t want = refSum(other + srcAt, srcLength, srcOffset, length, initial);
		if ((uint32_t)machine.result.number != want) {
			printf("sum differs: round %d %d+%d/%d length %d initial %.0f: %u, want %u\n", round, srcAt,
				srcOffset, srcLength, length, initial, (uint32_t)machine.result.number, want);
			return 1;
		}
	}
	printf("ok %d\n", cases);
	return 0;
}
