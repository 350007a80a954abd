// The TimerDriver on Moddable: hands it the SDK's `timer` and `time` modules. Importing them is
// fine in a preloaded module; the timer itself is made at run time, when the driver first schedules.
//
//   const driver = new ModdableDriver();
//   driver.attach(device);
//   driver.add(stack);

/// <reference path="../../../node_modules/@moddable/typings/timer.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/time.d.ts" />
import Timer from "timer";
import Time from "time";
import { TimerDriver, type TimerDriverOptions } from "../timer-driver.js";

export class ModdableDriver extends TimerDriver<Timer> {
  constructor(options: TimerDriverOptions = {}) {
    super(Timer, Time, options);
  }
}
