// Drives LHC-Forms in headless Chromium for tests/test_fhir_renderer.py (puppeteer-core, the
// system's chromium; no browser is downloaded).
//
//   node drive.mjs PLAN.json   ->   one JSON object on stdout
//
// PLAN: {"url": the page, "chromium": the browser's path, "steps": [{"fill": [[linkId, text,
// "choice" | "text"], ...] answers typed or chosen as a person would (a new answer replaces the
// old), "visible": [linkId, ...] items to look for once they are given, "expect": {linkId:
// shown?} what the test expects, waited for before looking}, ...], "screenshot": a PNG path or
// null}.
// Output: {"response": the QuestionnaireResponse LHC-Forms exports (its own
// LForms.Util.getFormFHIRData), "shown": [{linkId: shown?}, one per step], "errors": [...]}.
import {readFileSync} from "node:fs";
import puppeteer from "puppeteer-core";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const field = (linkId) => `[id^="${linkId}/"]`; // LHC-Forms: "<linkId>/1/1" per nesting level

async function shown(page, linkIds) {
  const found = {};
  for (const linkId of linkIds) found[linkId] = (await page.$(field(linkId))) !== null;
  return found;
}

// What *expected* says is shown ({linkId: shown?}), once the form has re-evaluated its enableWhen
// conditions: waits until the page matches it (or ten seconds pass), then reports what is shown.
async function settled(page, linkIds, expected) {
  if (expected) {
    await page.waitForFunction(
      (wanted) => Object.entries(wanted).every(([linkId, shows]) =>
        (document.querySelector(`[id^="${linkId}/"]`) !== null) === shows),
      {timeout: 10000}, expected).catch(() => null);
  }
  return shown(page, linkIds);
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

// Clicks the item's field; the form may re-render it as answers show and hide items, so a field
// that went away between finding and clicking is looked up again.
async function focus(page, linkId) {
  for (let attempt = 1; ; attempt++) {
    try {
      const input = await page.waitForSelector(field(linkId), {timeout: 10000});
      await input.click({clickCount: 3}); // selects an earlier answer, which the new one replaces
      return;
    } catch (error) {
      if (attempt === 5 || !/detached|not clickable/i.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function pick(page, linkId, text) {
  let typed = false;
  for (let attempt = 1; ; attempt++) {
    let option = await choose(page, linkId, text, typed);
    if (option === null) {
      await page.keyboard.type(text);
      typed = true;
      option = await choose(page, linkId, text, typed);
    }
    try {
      await option.asElement().click();
      return;
    } catch (error) { // the list was redrawn under the pointer: look again
      if (attempt === 5 || !/detached|not clickable/i.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function fill(page, [linkId, text, kind]) {
  for (let attempt = 1; ; attempt++) {
    await focus(page, linkId);
    await page.keyboard.press("Backspace");
    if (kind === "choice") {
      // Chosen from the list as a person would: among the suggestions shown, or after typing. On a
      // loaded machine the form can re-render the field between the click and the typing (the list
      // then never opens): close whatever is open and give the answer again from the start.
      try {
        await pick(page, linkId, text);
      } catch (error) {
        if (attempt === 3 || !/no suggestion|detached|not clickable/i.test(error.message)) throw error;
        await page.keyboard.press("Escape");
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
    } else {
      await page.keyboard.type(text);
      await page.keyboard.press("Tab");
    }
    // A list that moved as it opened can take the click on a neighbour: check, and choose again.
    // (A list of several answers shows them beside an emptied field.)
    const given = await page.$eval(field(linkId), (input) => input.value).catch(() => null);
    if (given === null || given === "" || given.trim().toLowerCase() === text.toLowerCase()) return;
    if (attempt === 3) {
      throw new Error(`${linkId}: gave ${JSON.stringify(text)}, the form shows ${JSON.stringify(given)}`);
    }
  }
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
  const seen = [];
  for (const step of plan.steps ?? []) {
    for (const answer of step.fill ?? []) await fill(page, answer);
    seen.push(await settled(page, step.visible ?? [], step.expect));
  }
  if (plan.screenshot) {
    await page.evaluate(() => document.activeElement?.blur());
    const clip = {x: 0, y: 0, width: 1100, height: 900}; // the top of the form
    await page.screenshot({path: plan.screenshot, clip, captureBeyondViewport: true});
  }
  const response = await page.evaluate(() =>
    LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")));
  process.stdout.write(JSON.stringify({response, shown: seen, errors}));
} finally {
  await browser.close();
}
