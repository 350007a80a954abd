// W5500 register map, control-byte fields and bit values shared by the driver and the simulator
// (datasheet v1.0.9; see the chip notes in the project's reference on Ethernet MACs). Plain
// constants: nothing here is mutable, so the module preloads.

/** Control byte: BSB in bits 7:3, RWB in bit 2 (1 = write), OM in bits 1:0 (00 = variable length). */
export const CTRL_WRITE = 0x04;
export const BSB_COMMON = 0x00;
export const BSB_S0_REG = 0x01;
export const BSB_S0_TX = 0x02;
export const BSB_S0_RX = 0x03;

/** Common registers. */
export const MR = 0x00;
export const SHAR = 0x09;
export const SIPR = 0x0f;
export const INTLEVEL = 0x13;
export const IR = 0x15;
export const IMR = 0x16;
export const SIR = 0x17;
export const SIMR = 0x18;
export const RTR = 0x19;
export const PHYCFGR = 0x2e;
export const VERSIONR = 0x39;

export const MR_RST = 0x80;
export const PHY_RST = 0x80;
export const PHY_LNK = 0x01;
export const VERSION = 0x04;

/** Socket registers (block 4n+1). */
export const Sn_MR = 0x00;
export const Sn_CR = 0x01;
export const Sn_IR = 0x02;
export const Sn_SR = 0x03;
export const Sn_RXBUF_SIZE = 0x1e;
export const Sn_TXBUF_SIZE = 0x1f;
export const Sn_TX_FSR = 0x20;
export const Sn_TX_RD = 0x22;
export const Sn_TX_WR = 0x24;
export const Sn_RX_RSR = 0x26;
export const Sn_RX_RD = 0x28;
export const Sn_RX_WR = 0x2a;
export const Sn_IMR = 0x2c;

export const MR_MACRAW = 0x04;
export const MR_MFEN = 0x80;
export const MR_BCASTB = 0x40;
export const MR_MMB = 0x20;
export const MR_MIP6B = 0x10;

export const CR_OPEN = 0x01;
export const CR_CLOSE = 0x10;
export const CR_SEND = 0x20;
export const CR_RECV = 0x40;

export const IR_SEND_OK = 0x10;
export const IR_TIMEOUT = 0x08;
export const IR_RECV = 0x04;

export const SR_CLOSED = 0x00;
export const SR_MACRAW = 0x42;

/** Socket 0 takes all 16 KB of each buffer memory in MACRAW-only use. */
export const BUFFER_SIZE = 16384;
/** Largest MACRAW frame (no FCS), and the shortest a real network delivers. */
export const MAX_FRAME = 1514;
export const MIN_FRAME = 60;
/** The MACRAW receive record header: a big-endian length that counts itself. */
export const RX_HEADER = 2;
