// ENC28J60 register map, opcodes and bits shared by the driver and the chip simulator (datasheet
// DS39662E). A control register is named by `bank << 5 | address`; addresses 0x1B..0x1F are the
// same five registers in every bank, so their bank part is ignored.

// ------------------------------------------------------------------- SPI opcodes (bits 7:5)
export const OP_RCR = 0x00;
export const OP_RBM = 0x3a;
export const OP_WCR = 0x40;
export const OP_WBM = 0x7a;
export const OP_BFS = 0x80;
export const OP_BFC = 0xa0;
export const OP_SRC = 0xff;

// ------------------------------------------------------------------- common to every bank
export const EIE = 0x1b;
export const EIR = 0x1c;
export const ESTAT = 0x1d;
export const ECON2 = 0x1e;
export const ECON1 = 0x1f;

// ------------------------------------------------------------------- bank 0
export const ERDPTL = 0x00;
export const ERDPTH = 0x01;
export const EWRPTL = 0x02;
export const EWRPTH = 0x03;
export const ETXSTL = 0x04;
export const ETXSTH = 0x05;
export const ETXNDL = 0x06;
export const ETXNDH = 0x07;
export const ERXSTL = 0x08;
export const ERXSTH = 0x09;
export const ERXNDL = 0x0a;
export const ERXNDH = 0x0b;
export const ERXRDPTL = 0x0c;
export const ERXRDPTH = 0x0d;
export const ERXWRPTL = 0x0e;
export const ERXWRPTH = 0x0f;

// ------------------------------------------------------------------- bank 1
export const EHT0 = 0x20;
export const ERXFCON = 0x38;
export const EPKTCNT = 0x39;

// ------------------------------------------------------------------- bank 2 (MAC/MII: dummy byte on read)
export const MACON1 = 0x40;
export const MACON3 = 0x42;
export const MACON4 = 0x43;
export const MABBIPG = 0x44;
export const MAIPGL = 0x46;
export const MAIPGH = 0x47;
export const MAMXFLL = 0x4a;
export const MAMXFLH = 0x4b;
export const MICMD = 0x52;
export const MIREGADR = 0x54;
export const MIWRL = 0x56;
export const MIWRH = 0x57;
export const MIRDL = 0x58;
export const MIRDH = 0x59;

// ------------------------------------------------------------------- bank 3
export const MAADR5 = 0x60; // mac[4]
export const MAADR6 = 0x61; // mac[5], last on the wire
export const MAADR3 = 0x62; // mac[2]
export const MAADR4 = 0x63; // mac[3]
export const MAADR1 = 0x64; // mac[0], first on the wire
export const MAADR2 = 0x65; // mac[1]
export const MISTAT = 0x6a;
export const EREVID = 0x72;

/** Bank-3 address of mac[i], i = 0..5 (the datasheet's MAADR1..6 are not in address order). */
export const MAADR_OF: readonly number[] = Object.freeze([
  MAADR1,
  MAADR2,
  MAADR3,
  MAADR4,
  MAADR5,
  MAADR6,
]);

/** Whether RCR of register `reg` returns a dummy byte first (MAC, MII and MISTAT). */
export function needsDummy(reg: number): boolean {
  const address = reg & 0x1f;
  if (address >= 0x1b) return false;
  const bank = reg >> 5;
  return bank === 2 || (bank === 3 && (address <= 0x05 || address === 0x0a));
}

// ------------------------------------------------------------------- PHY registers (via MII)
export const PHCON1 = 0x00;
export const PHSTAT1 = 0x01;
export const PHID1 = 0x02;
export const PHID2 = 0x03;
export const PHCON2 = 0x10;
export const PHSTAT2 = 0x11;
export const PHIE = 0x12;
export const PHIR = 0x13;
export const PHLCON = 0x14;

// ------------------------------------------------------------------- bits
export const ECON1_TXRST = 0x80;
export const ECON1_RXRST = 0x40;
export const ECON1_DMAST = 0x20;
export const ECON1_TXRTS = 0x08;
export const ECON1_RXEN = 0x04;
export const ECON1_BSEL = 0x03;

export const ECON2_AUTOINC = 0x80;
export const ECON2_PKTDEC = 0x40;

export const ESTAT_INT = 0x80;
export const ESTAT_BUFER = 0x40;
export const ESTAT_LATECOL = 0x10;
export const ESTAT_RXBUSY = 0x04;
export const ESTAT_TXABRT = 0x02;
export const ESTAT_CLKRDY = 0x01;

export const EIE_INTIE = 0x80;
export const EIE_PKTIE = 0x40;
export const EIE_LINKIE = 0x10;
export const EIE_TXIE = 0x08;
export const EIE_TXERIE = 0x02;
export const EIE_RXERIE = 0x01;

export const EIR_PKTIF = 0x40;
export const EIR_DMAIF = 0x20;
export const EIR_LINKIF = 0x10;
export const EIR_TXIF = 0x08;
export const EIR_TXERIF = 0x02;
export const EIR_RXERIF = 0x01;

export const ERXFCON_UCEN = 0x80;
export const ERXFCON_ANDOR = 0x40;
export const ERXFCON_CRCEN = 0x20;
export const ERXFCON_HTEN = 0x04;
export const ERXFCON_MCEN = 0x02;
export const ERXFCON_BCEN = 0x01;

export const MACON1_TXPAUS = 0x08;
export const MACON1_RXPAUS = 0x04;
export const MACON1_MARXEN = 0x01;

export const MACON3_PADCFG0 = 0x20;
export const MACON3_TXCRCEN = 0x10;
export const MACON3_HFRMEN = 0x04;
export const MACON3_FRMLNEN = 0x02;
export const MACON3_FULDPX = 0x01;

export const MACON4_DEFER = 0x40;

export const MICMD_MIIRD = 0x01;
export const MISTAT_BUSY = 0x01;

export const PHCON1_PDPXMD = 0x0100;
export const PHCON2_HDLDIS = 0x0100;
export const PHSTAT1_LLSTAT = 0x0004;
export const PHSTAT2_LSTAT = 0x0400;
export const PHSTAT2_DPXSTAT = 0x0200;
export const PHIE_PLNKIE = 0x0010;
export const PHIE_PGEIE = 0x0002;
export const PHIR_PLNKIF = 0x0010;
export const PHIR_PGIF = 0x0004;

/** Receive status vector bits 16..31, as the two bytes at header offsets 4 and 5. */
export const RSV_RXOK = 0x80; // byte 4, bit 23
export const RSV_MULTICAST = 0x01; // byte 5, bit 24
export const RSV_BROADCAST = 0x02; // byte 5, bit 25

/** Transmit status vector bits in byte 2 (bits 23..16) and byte 3 (bits 31..24). */
export const TSV_DONE = 0x80; // byte 2, bit 23
export const TSV_LATE_COLLISION = 0x20; // byte 3, bit 29

/** Largest frame with FCS the MAC is told to take (MAMXFL). */
export const MAX_FRAME = 1518;

/**
 * The hash-table bit for a destination address: bits 28:23 of the CRC-32 the MAC computes over
 * the six address bytes (reflected polynomial, all-ones start, no final inversion).
 */
export function hashIndex(mac: Uint8Array, offset: number): number {
  let crc = 0xffffffff;
  for (let i = 0; i < 6; i++) {
    crc ^= mac[offset + i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc >>> 23) & 0x3f;
}
