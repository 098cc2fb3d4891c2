// Drives LHC-Forms in headless Chromium for tests/test_fhir_renderer.py (puppeteer-core, the
// system's chromium; no browser is downloaded).
//
//   node drive.mjs PLAN.json   ->   one JSON object on stdout
//
// PLAN: {"url": the page, "chromium": the browser's path, "fill": [[linkId, text, "choice" |
// "text"], ...] answers typed as a person would, "visible": [linkId, ...] items to look for
// before and after filling, "screenshot": a PNG path or null}.
// Output: {"response": the QuestionnaireResponse LHC-Forms exports (its own
// LForms.Util.getFormFHIRData), "before": {linkId: shown?}, "after": {linkId: shown?}}.
import {readFileSync} from "node:fs";
import puppeteer from "puppeteer-core";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const field = (linkId) => `[id^="${linkId}/"]`; // LHC-Forms: "<linkId>/1/1" per nesting level

async function shown(page, linkIds) {
  const found = {};
  for (const linkId of linkIds) found[linkId] = (await page.$(field(linkId))) !== null;
  return found;
}

// The autocompleter's suggestion whose words are *text* (LHC-Forms lists "1: words").
function suggestion(text) {
  const words = (li) => li.textContent.replace(/^\d+:\s*/, "").trim().toLowerCase();
  const list = document.querySelectorAll("#lhc-tools-searchResults #completionOptions li");
  return [...list].find((li) => words(li) === text.toLowerCase()) ?? null;
}

async function choose(page, linkId, text, typed) {
  try {
    return await page.waitForFunction(suggestion, {timeout: typed ? 10000 : 1500}, text);
  } catch (error) {
    if (!typed) return null;
    const offered = await page.$$eval("#completionOptions li", (list) => list.map((li) => li.textContent));
    throw new Error(`${linkId}: no suggestion ${JSON.stringify(text)} among ${JSON.stringify(offered)}`);
  }
}

async function fill(page, [linkId, text, kind]) {
  const input = await page.waitForSelector(field(linkId), {timeout: 10000});
  await input.click();
  if (kind !== "choice") {
    await input.type(text);
    await page.keyboard.press("Tab");
    return;
  }
  // Chosen from the list as a person would: among the suggestions shown, or after typing.
  let option = await choose(page, linkId, text, false);
  if (option === null) {
    await input.type(text);
    option = await choose(page, linkId, text, true);
  }
  await option.asElement().click();
}

const browser = await puppeteer.launch({
  executablePath: plan.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.setViewport({width: 1100, height: 900});
  await page.goto(plan.url);
  await page.waitForSelector("body[data-ready], body[data-error]", {timeout: 60000});
  const failed = await page.evaluate(() => document.body.dataset.error);
  if (failed) throw new Error(`the form did not render: ${failed}`);
  const before = await shown(page, plan.visible ?? []);
  for (const answer of plan.fill ?? []) await fill(page, answer);
  const after = await shown(page, plan.visible ?? []);
  if (plan.screenshot) {
    await page.evaluate(() => document.activeElement?.blur());
    const clip = {x: 0, y: 0, width: 1100, height: 900}; // the top of the form
    await page.screenshot({path: plan.screenshot, clip, captureBeyondViewport: true});
  }
  const response = await page.evaluate(() =>
    LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")));
  process.stdout.write(JSON.stringify({response, before, after, errors}));
} finally {
  await browser.close();
}
