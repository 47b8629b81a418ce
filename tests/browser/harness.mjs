// What the browser scripts share: Debian's Chromium with the flags this machine needs,
// and named steps that end the script (non-zero, naming the step) at the first failure.
import { chromium } from "playwright-core";

/** Throws `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Launches headless Chromium (`$CHROMIUM` or /usr/bin/chromium) with `extraArgs`. */
export function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      ...extraArgs,
    ],
  });
}

/** A `step(name, run)` that logs `ok NAME`, or closes `browser`, runs `cleanup` and exits 1. */
export function stepper(browser, cleanup = () => {}) {
  return async (name, run) => {
    try {
      await run();
      console.log(`ok   ${name}`);
    } catch (error) {
      console.error(`FAIL ${name}: ${error.message}`);
      await browser.close();
      cleanup();
      process.exit(1);
    }
  };
}
