// Drives the Airlock app in Debian's Chromium against a running gateway whose
// `openai` provider talks to a fake upstream (see tests/tests/browser.rs).
//
//   node app.mjs BASE_URL ARTIFACT_DIR SCREENSHOT_PNG
//
// SCREENSHOT_PNG is the screenshot to upload: a real-size one (several MB).
// Exits non-zero, naming the step, when anything is not as it should be. Screenshots
// of the app are saved in ARTIFACT_DIR.
import { check, launch, stepper } from "./harness.mjs";
import { mkdirSync, readFileSync } from "node:fs";

const [base, artifacts, screenshotPath] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const SCREENSHOT = readFileSync(screenshotPath);

const browser = await launch();
const step = stepper(browser);

const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(20_000);
const dialogs = [];
const requests = [];
page.on("dialog", (dialog) => {
  dialogs.push(dialog.message());
  dialog.dismiss();
});
page.on("request", (request) => requests.push(request.url()));

const statuses = () => page.locator(".variant .status").allTextContents();
const previewHeading = (index) => page.frameLocator(`.variant[data-index="${index}"] iframe.preview`).locator("h1");

await step("the app loads and lists the providers", async () => {
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.querySelectorAll("#provider option").length > 0);
  const providers = await page.locator("#provider option").evaluateAll((options) => options.map((o) => o.value));
  check(providers.includes("openai"), `providers: ${providers}`);
  await page.screenshot({ path: `${artifacts}/01-first-visit.png`, fullPage: true });
});

await step("a screenshot streams into two variants whose previews render", async () => {
  await page.setInputFiles("#file", { name: "landing.png", mimeType: "image/png", buffer: SCREENSHOT });
  await page.waitForSelector("#thumbs img");
  await page.selectOption("#provider", "openai");
  await page.fill("#model", "gpt-4o");
  await page.click("#generate");
  await page.waitForSelector('.variant[data-index="1"]');
  await page.waitForFunction(() => {
    const all = [...document.querySelectorAll(".variant .status")];
    return all.length === 2 && all.every((s) => s.textContent.startsWith("done"));
  });
  for (const index of [0, 1]) {
    const heading = await previewHeading(index).textContent();
    check(heading === "Hello from the fake upstream", `variant ${index} preview shows ${heading}`);
  }
  const sandbox = await page.locator(".variant iframe.preview").first().getAttribute("sandbox");
  check(sandbox === "allow-scripts", `iframe sandbox is ${sandbox}`);
  await page.screenshot({ path: `${artifacts}/02-after-generation.png`, fullPage: true });
});

await step("an update changes the page, and undo brings the old one back", async () => {
  const card = page.locator('.variant[data-index="0"]');
  await card.locator(".instruction").fill("make the title say it was updated");
  await card.locator(".update button[type=submit]").click();
  await page.waitForFunction(() => document.querySelector('.variant[data-index="0"] .history').options.length === 2);
  const updated = await previewHeading(0).textContent();
  check(updated === "Updated by request", `after the update the preview shows ${updated}`);
  await card.locator(".history").selectOption("0");
  await card.locator(".undo").click();
  await page.waitForFunction(() => document.querySelector('.variant[data-index="0"] .history').options.length === 1);
  const restored = await previewHeading(0).textContent();
  check(restored === "Hello from the fake upstream", `after undo the preview shows ${restored}`);
  await page.screenshot({ path: `${artifacts}/03-after-update.png`, fullPage: true });
});

await step("script in a model's answer does not run", async () => {
  await page.selectOption("#variants", "1");
  await page.fill("#model", "fake-xss");
  await page.click("#generate");
  await page.waitForFunction(() => {
    const all = [...document.querySelectorAll(".variant .status")];
    return all.length === 1 && all[0].textContent.startsWith("done");
  });
  const heading = await previewHeading(0).textContent();
  check(heading === "Pwned?", `the benign part renders: ${heading}`);
  // Click the (neutralised) javascript: link too.
  await page.frameLocator('.variant[data-index="0"] iframe.preview').locator("a").click();
  await page.waitForTimeout(500);
  check(dialogs.length === 0, `dialogs opened: ${dialogs}`);
  const leaked = requests.filter((url) => url.includes("evil.test"));
  check(leaked.length === 0, `requests to the attacker: ${leaked}`);
  const code = await page.locator('.variant[data-index="0"] .code').textContent();
  check(!code.includes("onerror") && !code.includes("<script"), "the code view shows no script vectors");
  await page.screenshot({ path: `${artifacts}/04-hostile-output.png`, fullPage: true });
});

await step("a bad image shows a clear error", async () => {
  await page.locator("#thumbs button").first().click();
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');
  await page.setInputFiles("#file", { name: "trick.png", mimeType: "image/png", buffer: svg });
  await page.waitForSelector("#thumbs figure");
  await page.fill("#model", "gpt-4o");
  await page.click("#generate");
  await page.waitForSelector("#error:not([hidden])");
  const message = await page.locator("#error").textContent();
  check(message.includes("SVG"), `error shown: ${message}`);
  check(dialogs.length === 0, `dialogs opened: ${dialogs}`);
  await page.screenshot({ path: `${artifacts}/05-bad-image.png`, fullPage: true });
});

await step("the app fits a phone's width", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: `${artifacts}/06-phone.png`, fullPage: true });
});

await browser.close();
console.log(`screenshots in ${artifacts}`);
