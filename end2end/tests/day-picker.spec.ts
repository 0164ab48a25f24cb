import { expect, test, type Page } from "@playwright/test";
import { freeTimes, offeredDays, scrollsSideways } from "./helpers";

const onOff = (js: boolean) => `JavaScript ${js ? "on" : "off"}`;

/** The day after `day` ("2026-06-07" gives "2026-06-08"). */
function after(day: string, n = 1) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const isSunday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay() === 0;

/** The first Sunday the spa's page offers after a week (the spa is closed on Sundays). */
async function aSunday(page: Page) {
  await page.goto("/venues/1?service=1&resource=1");
  const days = await offeredDays(page);
  return days.slice(7).find(isSunday)!;
}

const calendar = (page: Page) => page.locator(".day-picker").getByRole("table");

for (const javaScriptEnabled of [true, false]) {
  test(`the calendar offers the days with free times, shows closed ones and finds the next free time (${onOff(javaScriptEnabled)})`, async ({ browser }, info) => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    const sunday = await aSunday(page);
    await page.goto(`/venues/1?service=1&resource=1&date=${sunday}`);
    const times = page.getByRole("region", { name: "Start times" });
    await expect(times).toContainText("Closed on Sunday");
    await expect(freeTimes(page)).toHaveCount(0);
    // Closed days are shown and named, never offered.
    await expect(calendar(page).getByRole("link", { name: /^Sunday/ })).toHaveCount(0);
    await expect(calendar(page).getByText(/^Sunday \d+ \w+, closed$/).first()).toBeAttached();
    await expect(calendar(page).getByRole("link", { name: /free times?$/ }).first()).toBeVisible();
    await page.screenshot({ path: info.outputPath("venue-closed-day-desktop.png"), fullPage: true });

    // "Next free time" goes to the first day after it with a free time.
    const next = page.getByRole("link", { name: /^Next free time: / });
    const href = (await next.getAttribute("href"))!;
    const nextDay = new URL(href, "http://x").searchParams.get("date")!;
    expect(nextDay > sunday).toBe(true);
    await next.click();
    await expect(page).toHaveURL(new RegExp(`date=${nextDay}`));
    await expect(freeTimes(page).first()).toBeVisible();
    await expect(calendar(page).locator('a[aria-current="date"]')).toHaveAttribute("data-date", nextDay);

    // The times come in parts of the day; lunch is a gap, not a silence.
    await expect(times.getByRole("heading", { name: "Morning" })).toBeVisible();
    await expect(times.getByRole("heading", { name: "Afternoon" })).toBeVisible();
    await expect(times.getByText("Break 13:00 to 14:00")).toBeVisible();
    await expect(times.getByRole("list", { name: "Key to the times" })).toContainText("Taken");

    // Picking a day on the calendar, then another treatment, keeps the day.
    const target = calendar(page).getByRole("link", { name: /free times?$/ }).nth(4);
    const day = (await target.getAttribute("data-date"))!;
    await target.click();
    await expect(page).toHaveURL(new RegExp(`date=${day}`));
    const treatment = page.getByLabel("Treatment");
    if (javaScriptEnabled) {
      // The grid follows the select once the wasm bundle has hydrated the page.
      await expect(async () => {
        await treatment.selectOption("1");
        await treatment.selectOption("2");
        await expect(page).toHaveURL(/service=2/, { timeout: 1_000 });
      }).toPass();
    } else {
      await treatment.selectOption("2");
      await page.getByRole("button", { name: "Show times" }).click();
    }
    await expect(page).toHaveURL(new RegExp(`service=2&resource=1&date=${day}`));
    await expect(page.getByLabel("Treatment").locator("option:checked")).toHaveText(/^Full body massage/);
    await expect(calendar(page).locator('a[aria-current="date"]')).toHaveAttribute("data-date", day);

    // The next month turns the calendar; its first day can be booked from there.
    const title = await page.locator("#calendar-title").textContent();
    await page.getByRole("link", { name: "Next month" }).click();
    await expect(page.locator("#calendar-title")).not.toHaveText(title!);
    await expect(page.getByRole("link", { name: "Previous month" })).toBeVisible();

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/venues/1?service=1&resource=1&date=${nextDay}`);
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: info.outputPath("venue-day-picker-phone.png"), fullPage: true });
    await context.close();
  });
}

test("the arrow keys move between the days on offer, past closed ones", async ({ page }) => {
  // A Sunday two weeks or more ahead whose week before and Monday after
  // fall in its own month.
  await page.goto("/venues/1?service=1&resource=1");
  const days = await offeredDays(page);
  const sunday = days.slice(14).find((d) => isSunday(d) && +d.slice(8) >= 9 && +d.slice(8) <= 28)!;
  const [saturday, monday, weekBefore] = [after(sunday, -1), after(sunday), after(sunday, -8)];
  await page.goto(`/venues/1?service=1&resource=1&date=${saturday}`);
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-date"));
  // The keys work once the wasm bundle has hydrated the page.
  await expect(async () => {
    await calendar(page).locator(`a[data-date="${saturday}"]`).focus();
    await page.keyboard.press("ArrowRight");
    expect(await focused()).toBe(monday);
  }).toPass();
  await page.keyboard.press("ArrowLeft");
  expect(await focused(), "back past the closed Sunday").toBe(saturday);
  await page.keyboard.press("ArrowUp");
  expect(await focused()).toBe(weekBefore);
  await page.keyboard.press("ArrowDown");
  expect(await focused()).toBe(saturday);
  await page.keyboard.press("Home");
  const first = await calendar(page).locator("a[data-date]").first().getAttribute("data-date");
  expect(await focused()).toBe(first);
  // Enter opens the focused day.
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`date=${first}`));
});
