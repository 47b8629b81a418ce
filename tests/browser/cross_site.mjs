// Plays an attacker's web site against a running gateway in Debian's Chromium (see
// tests/tests/browser.rs):
//
//   node cross_site.mjs BASE_URL
//
// A second local server serves the attacker's pages as http://evil.test:PORT, and the
// gateway's own port is reached as http://rebind.attacker.test:PORT too: Chromium's
// host resolver maps both names to 127.0.0.1, which is what DNS rebinding achieves.
// The page tries a plain form POST and a `no-cors` fetch that would start a generation
// on the operator's keys, then reads the API through the rebound name. Every attempt
// must be refused by the gateway itself (status read from the network, not guessed
// from opaque responses), and the app on its own origin must still work.
// Exits non-zero, naming the step, when anything is not as it should be.
import http from "node:http";
import { check, launch, stepper } from "./harness.mjs";

const [base] = process.argv.slice(2);
const port = new URL(base).port;
const generation = JSON.stringify({
  description: "A page that costs the operator money",
  stack: "html_tailwind",
  provider: "openai",
  model: "gpt-4o",
  variants: 1,
});

const escaped = generation.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
const attackerPage = `<!doctype html><title>cheap LLM</title>
<iframe name="sink"></iframe>
<form id="steal" method="post" enctype="multipart/form-data" action="${base}/v1/generations" target="sink">
  <input name="request" value="${escaped}">
</form>`;
const attacker = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html" });
  response.end(attackerPage);
});
await new Promise((listening) => attacker.listen(0, "127.0.0.1", listening));
const evil = `http://evil.test:${attacker.address().port}`;

const browser = await launch(["--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.attacker.test 127.0.0.1"]);
const step = stepper(browser, () => attacker.close());
const page = await browser.newPage();
page.setDefaultTimeout(20_000);
const answerTo = (path) => page.waitForResponse((response) => new URL(response.url()).pathname === path);

await step("a cross-site form POST to /v1/generations is refused", async () => {
  await page.goto(`${evil}/`);
  const answered = answerTo("/v1/generations");
  await page.evaluate(() => document.getElementById("steal").submit());
  const response = await answered;
  check(response.status() === 403, `status ${response.status()}`);
  const sink = page.frame({ name: "sink" });
  await sink.waitForLoadState();
  const text = await sink.textContent("body");
  check(text.includes("cross_site_request"), `the form got: ${text}`);
});

await step("a cross-site no-cors fetch is refused", async () => {
  const answered = answerTo("/v1/generations");
  await page.evaluate(
    ([url, body]) => fetch(url, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body }),
    [`${base}/v1/generations`, generation],
  );
  const response = await answered;
  check(response.status() === 403, `status ${response.status()}`);
});

await step("a rebound host name cannot load the app or read the API", async () => {
  const rebound = `http://rebind.attacker.test:${port}`;
  const response = await page.goto(`${rebound}/`);
  check(response.status() === 421, `the app under a rebound name: status ${response.status()}`);
  const read = await page.evaluate(async () => {
    const answer = await fetch("/v1/providers");
    return { status: answer.status, body: await answer.text() };
  });
  check(read.status === 421 && read.body.includes("host_not_allowed"), `same-origin read: ${JSON.stringify(read)}`);
  const post = await page.evaluate(async (body) => {
    const answer = await fetch("/v1/generations", { method: "POST", headers: { "content-type": "application/json" }, body });
    return answer.status;
  }, generation);
  check(post === 421, `same-origin POST: status ${post}`);
});

await step("the app on its own origin still works", async () => {
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.querySelectorAll("#provider option").length > 0);
  const status = await page.evaluate(async () => {
    const answer = await fetch("/v1/sanitize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ plugin: "html", content: "<p onclick=x()>hi</p>" }),
    });
    return answer.status;
  });
  check(status === 200, `same-origin POST /v1/sanitize: status ${status}`);
});

await browser.close();
attacker.close();
