// Drives Debian's Chromium through the browsable API as a new user would: the root page, the
// key form, the assets list, a filter, a create through the form, the record, and Swagger UI.
// Usage: BASE_URL=http://127.0.0.1:PORT API_KEY=itdocs_live_… SHOTS_DIR=dir node browse.mjs
// Prints one JSON line with what it saw; exits non-zero on the first thing that is wrong.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const apiKey = process.env.API_KEY;
const shots = process.env.SHOTS_DIR;
const executable = process.env.CHROMIUM || "/usr/bin/chromium";
if (!base || !apiKey || !shots) {
  console.error("BASE_URL, API_KEY and SHOTS_DIR are required");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Chromium with exactly these flags and a fresh profile; Playwright attaches over CDP.
async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "clientstor-chromium-"));
  const child = spawn(
    executable,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    // Its own process group, so the renderer and utility processes can be stopped with it.
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  const endpoint = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error("Chromium did not start: " + seen)), 30000);
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`Chromium exited (${code}): ${seen}`)));
  });
  const browser = await chromium.connectOverCDP(endpoint);
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // Browser.close lets Chromium shut its helpers down and flush the profile before it exits.
    try {
      const session = await browser.newBrowserCDPSession();
      await session.send("Browser.close");
    } catch {
      // Already gone or no longer answering: the group kill below ends it.
    }
    const running = () => child.exitCode === null && child.signalCode === null;
    if (running()) await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // The whole group has exited.
    }
    if (running()) await exited;
    // A helper still flushing its cache must not turn a passing run into a failure.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 200 });
    } catch (error) {
      console.error(`profile ${profile} left behind: ${error.message}`);
    }
  };
  return { browser, stop };
}

async function main() {
  const { browser, stop } = await launch();
  const seen = { requests: 0, outside: [], keyInUrl: [], cspViolations: [], steps: [] };
  try {
    const context = browser.contexts()[0];
    const page = await context.newPage();
    const origin = new URL(base).origin;
    page.on("request", (request) => {
      seen.requests += 1;
      const url = request.url();
      if (!url.startsWith(origin) && !url.startsWith("data:")) seen.outside.push(url);
      if (url.includes(apiKey)) seen.keyInUrl.push(url);
    });
    // Chromium reports what the Content-Security-Policy blocked on the console.
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) seen.cspViolations.push(message.text());
    });
    const step = (name) => seen.steps.push(name);
    const rows = () => page.$$eval("table.results tbody tr", (trs) => trs.map((r) => r.textContent));

    // The printed URL: the resources and the key form, no key needed.
    const root = await page.goto(`${base}/api/`);
    check(root.status() === 200, `/api/ answered ${root.status()}`);
    await page.waitForSelector("table.resources a[href='/api/v1/assets/']");
    check(await page.isVisible("#key-hint"), "the root page does not say where to start");
    await page.screenshot({ path: join(shots, "01-root.png"), fullPage: true });
    step("root");

    // Without a key a resource page asks for one.
    await page.click("table.resources a[href='/api/v1/assets/']");
    await page.waitForSelector("body[data-page=shell]");
    step("shell");

    await page.fill("#api-key", apiKey);
    await page.click("#use-key");
    await page.waitForSelector("body[data-page=resource] h1:text('List assets')");
    check((await page.textContent("#key-status")).includes("key in use"), "key state not shown");
    await page.screenshot({ path: join(shots, "02-assets.png"), fullPage: true });
    step("assets");

    // A filter from the description: status, an enumeration.
    await page.selectOption("#q-status", "retired");
    await page.click("#filters button[type=submit]");
    await page.waitForURL(/status=retired/);
    await page.waitForSelector("table.results");
    const filtered = await rows();
    check(filtered.length === 1 && filtered[0].includes("browser-beta"), `filter shows ${JSON.stringify(filtered)}`);
    await page.screenshot({ path: join(shots, "03-filtered.png"), fullPage: true });
    step("filter");

    // Column headings order the list, the filter kept; a second click reverses the order.
    await page.click("#clear-filters");
    await page.waitForURL((url) => !url.search.includes("status="));
    await page.click("table.results th a[data-order=name]");
    await page.waitForURL(/ordering=name/);
    await page.waitForSelector("table.results th a[data-order=name]:text('▲')");
    const ascending = (await rows()).filter((r) => r.includes("browser-"));
    check(ascending[0].includes("browser-alpha"), `ordered by name: ${JSON.stringify(ascending)}`);
    await page.click("table.results th a[data-order=name]");
    await page.waitForURL(/ordering=-name/);
    await page.waitForSelector("table.results th a[data-order=name]:text('▼')");
    const descending = (await rows()).filter((r) => r.includes("browser-"));
    check(descending[0].includes("browser-beta"), `ordered by -name: ${JSON.stringify(descending)}`);
    step("order");

    // Pagination: one record a page, then the next page by its link.
    await page.fill("#q-page_size", "1");
    await page.click("#filters button[type=submit]");
    await page.waitForURL(/page_size=1/);
    await page.waitForSelector("nav.pages a[rel=next]");
    const first = await rows();
    await page.click("nav.pages a[rel=next]");
    await page.waitForURL(/page=2/);
    await page.waitForSelector("nav.pages a[rel=previous]");
    const second = await rows();
    check(first.length === 1 && second.length === 1 && first[0] !== second[0], `pages: ${first} / ${second}`);
    const position = await page.textContent("nav.pages");
    check(position.includes("page 2 of 2 · 2 in all"), `position: ${position}`);
    check(await page.isVisible("nav.pages a[rel=first]"), "no link to the first page");
    step("page");

    // Back to the whole list, then a create through the form.
    // The filtered page has a create form too: wait for the cleared page to be in place.
    await page.click("#clear-filters");
    await page.waitForURL((url) => url.search === "");
    await page.waitForSelector("#f-create-name");
    await page.fill("#f-create-name", "browser-made");
    await page.selectOption("#f-create-asset_type", "laptop");
    await page.fill("#f-create-tags", "made, browser");
    await page.fill("#f-create-serial_number", "BRW-0001");
    await page.click("#create button[type=submit]");
    await page.waitForSelector("#flash.ok");
    const flash = await page.textContent("#flash");
    check(flash.includes("HTTP 201"), `create answered: ${flash}`);
    const listed = await rows();
    check(listed.some((row) => row.includes("browser-made")), `new asset not listed: ${JSON.stringify(listed)}`);
    await page.screenshot({ path: join(shots, "04-created.png"), fullPage: true });
    step("create");

    // The record's own page, by the link in the list.
    const row = page.locator("table.results tbody tr", { hasText: "browser-made" });
    await row.locator("td a").first().click();
    await page.waitForSelector("h1:text('Get an asset')");
    check((await page.textContent("#answer")).includes("BRW-0001"), "record page lacks the serial");
    await page.screenshot({ path: join(shots, "05-asset.png"), fullPage: true });
    step("record");

    // The raw JSON editor, then the delete button, on a record opened by its short alias path.
    page.on("dialog", (dialog) => dialog.accept());
    await page.goto(`${base}/api/assets/${process.env.BETA_ID}`);
    await page.waitForSelector("body[data-page=resource] #raw", { state: "attached" });
    const prefilled = await page.inputValue("#raw-body");
    check(prefilled.includes("browser-beta") && !prefilled.includes('"id"'), `raw editor starts with: ${prefilled}`);
    await page.click("details.raw summary");
    await page.selectOption("#raw-method", "PATCH");
    await page.fill("#raw-body", '{"notes": "edited as raw JSON"}');
    await page.click("#raw button[type=submit]");
    await page.waitForSelector("#flash.ok");
    check((await page.textContent("#answer")).includes("edited as raw JSON"), "raw PATCH not applied");
    await page.click("button[data-role=action][data-method=DELETE]");
    await page.waitForURL((url) => url.pathname === "/api/v1/assets/");
    await page.waitForSelector("#flash.ok");
    check((await page.textContent("#flash")).includes("HTTP 204"), "delete not confirmed");
    check(!(await rows()).some((r) => r.includes("browser-beta")), "deleted record still listed");
    step("raw-delete");

    // The seed's screens: the delivery log's retry and RMM "sync now" are buttons.
    await page.goto(`${base}/api/v1/webhooks/${process.env.WEBHOOK_ID}/deliveries/`);
    await page.waitForSelector("body[data-page=resource] table.results button[data-role=action]");
    await page.locator("table.results button[data-role=action]", { hasText: "retry" }).first().click();
    await page.waitForSelector("#flash");
    const retried = await page.textContent("#flash");
    check(retried.includes("HTTP 202"), `retry answered: ${retried}`);
    await page.screenshot({ path: join(shots, "06-deliveries.png"), fullPage: true });
    step("retry");

    await page.goto(`${base}/api/v1/integrations/rmm/${process.env.RMM_ID}/`);
    await page.waitForSelector("body[data-page=resource] button[data-role=action]");
    await page.locator("button[data-role=action]", { hasText: "sync" }).first().click();
    await page.waitForSelector("#flash");
    const synced = await page.textContent("#flash");
    check(synced.includes("HTTP 202"), `sync answered: ${synced}`);
    step("sync");

    // Profile → API keys: a key made from its page; the plaintext is shown once, in the answer.
    await page.goto(`${base}/api/v1/api-keys/`);
    await page.waitForSelector("body[data-page=resource] #f-create-name");
    await page.fill("#f-create-name", "made in the browser");
    await page.selectOption("#f-create-role", "readonly");
    await page.click("#create button[type=submit]");
    await page.waitForSelector("#flash");
    const made = await page.textContent("#flash");
    check(made.includes("HTTP 201") && made.includes("itdocs_live_"), `key create answered: ${made}`);
    const keys = await rows();
    check(keys.some((row) => row.includes("made in the browser")), `new key not listed: ${JSON.stringify(keys)}`);
    step("key");

    // A password: reveal and OTP are buttons; the revealed secret stays out of the forms, and
    // saving an edit does not reveal it again.
    const secret = process.env.PASSWORD_VALUE;
    await page.goto(`${base}/api/v1/passwords/${process.env.PASSWORD_ID}/`);
    await page.waitForSelector("body[data-page=resource] a.action:text('reveal')");
    await page.click("a.action:text('reveal')");
    await page.waitForURL(/reveal=true/);
    await page.waitForSelector("#answer");
    check((await page.textContent("#answer")).includes(secret), "revealed password not shown");
    const formsHold = await page.$$eval("input, textarea", (controls, value) => controls.some((c) => c.value.includes(value)), secret);
    check(!formsHold, "the revealed password was put into a form");
    await page.click("details.form summary:text('Edit')");
    await page.fill("#f-edit-title", "browser-secret renamed");
    await page.click("#edit button[type=submit]");
    await page.waitForSelector("#flash.ok");
    check((await page.textContent("#flash")).includes("HTTP 200"), "edit not saved");
    check(!page.url().includes("reveal"), `still revealing after the edit: ${page.url()}`);
    check(!(await page.textContent("#answer")).includes(secret), "the edit revealed the password again");
    check((await page.textContent("#answer")).includes("browser-secret renamed"), "the edit is not shown");
    await page.click("a.action:text('otp')");
    // The record's page has an answer too: wait for the code's own page.
    await page.waitForURL(/\/otp\/$/);
    await page.waitForSelector("h1:text('TOTP code')");
    const code = /"code": "(\d{6})"/.exec(await page.textContent("#answer"));
    check(code !== null, `no OTP code: ${await page.textContent("#answer")}`);
    await page.screenshot({ path: join(shots, "07-password.png"), fullPage: true });
    step("password");

    // A refused action says so and can be pressed again: checking a paused monitor (409).
    await page.goto(`${base}/api/v1/monitors/${process.env.MONITOR_ID}/`);
    await page.waitForSelector("body[data-page=resource] button[data-role=action]");
    const checkNow = page.locator("button[data-role=action]", { hasText: "check now" }).first();
    await checkNow.click();
    await page.waitForSelector("#flash.bad");
    const refused = await page.textContent("#flash");
    check(refused.includes("HTTP 409") && refused.includes("paused"), `check-now answered: ${refused}`);
    check(!(await checkNow.isDisabled()), "the button stays disabled after a refusal");
    await page.screenshot({ path: join(shots, "09-refused.png"), fullPage: true });
    step("refusal");

    // Swagger UI from the binary, on the merged description.
    await page.goto(`${base}/api/v1/docs/`);
    await page.waitForSelector(".opblock-summary-path", { timeout: 30000 });
    const operations = await page.$$eval(".opblock-summary-path", (nodes) => nodes.length);
    check(operations > 20, `Swagger UI shows ${operations} operations`);
    await page.screenshot({ path: join(shots, "08-swagger.png") });
    step("swagger");

    const cookies = await context.cookies();
    check(cookies.length === 0, `cookies set: ${JSON.stringify(cookies)}`);
    await page.goto(`${base}/api/`);
    await page.waitForSelector("#key-hint", { state: "hidden" });
    const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    check(stored.local === 0, `local storage holds ${stored.local} items`);
    check(stored.session === 1, `session storage holds ${stored.session} items (the key only)`);
    check(seen.cspViolations.length === 0, `blocked by CSP: ${seen.cspViolations.join(" | ")}`);
    check(seen.outside.length === 0, `requests left the machine: ${seen.outside.join(", ")}`);
    check(seen.keyInUrl.length === 0, `the key appeared in a URL: ${seen.keyInUrl.join(", ")}`);
    seen.operations = operations;
    console.log(JSON.stringify(seen));
  } finally {
    await stop();
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
