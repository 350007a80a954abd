// Prints the raw TAP frame ceiling: node .build/bench/tap-ceiling-main.js [seconds per direction]
import { tapCeiling } from "./tap-ceiling.js";

const seconds = Number(process.argv[2] ?? 2);
const result = await tapCeiling(seconds > 0 ? seconds : 2);
const thousands = (fps: number): string => `${(fps / 1000).toFixed(0)}k frames/s`;
console.log(`TAP ceiling, 1514-byte frames, no stack (${seconds} s each way)`);
console.log(`  transmit (TapDevice -> kernel): ${thousands(result.txFps)}`);
console.log(
  `  receive  (kernel -> TapDevice): ${thousands(result.rxFps)}  [flooded by ${result.sender}]`,
);
