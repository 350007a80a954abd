/* Just enough of Moddable's xsmc.h to run native/memops.c on the host: arguments are numbers or
 * byte buffers, and a buffer's pointer and length are what xsmcGetBuffer* would report. */
#include <stdint.h>
typedef int32_t xsIntegerValue;
typedef uint32_t xsUnsignedValue;
typedef double xsNumberValue;
typedef struct {
	double number;
	void *data;
	xsUnsignedValue count;
} xsSlot;
typedef struct {
	xsSlot args[5];
	xsSlot result;
} xsMachine;
#define xsArg(i) (the->args[i])
#define xsResult (the->result)
#define xsmcToInteger(s) ((xsIntegerValue)(s).number)
#define xsmcToNumber(s) ((s).number)
#define xsmcGetBufferReadable(s, d, c) (*(d) = (s).data, *(c) = (s).count)
#define xsmcGetBufferWritable(s, d, c) (*(d) = (s).data, *(c) = (s).count)
#define xsmcSetInteger(s, v) ((s).number = (v))
