import { expect, test, type Page } from "@playwright/test";
import { book, dayFrom, freeTimes, logInStaff, newCustomer, offeredDays, scrollsSideways, SECOND_URL, twoCustomers } from "./helpers";

const where = SECOND_URL ? ", each on its own app instance" : "";
const onOff = (js: boolean) => `JavaScript ${js ? "on" : "off"}`;

/** "Wednesday 16 December, 09:00" from a grid label "Wednesday 16 December, 09:00, Ben". */
const when = (label: string) => label.replace(/, [^,]+$/, "");

/** The reschedule page's free times. */
const moveTimes = (page: Page) =>
  page.getByRole("region", { name: "New start times" }).getByRole("button", { name: /^Move to / });

for (const javaScriptEnabled of [true, false]) {
  test.describe(onOff(javaScriptEnabled), () => {
    test("a customer reschedules from My bookings: the new time is theirs and the old one is free again", async ({ browser }, info) => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      await newCustomer(page, "Rhea");
      const url = await dayFrom(page, 1, "service=1&resource=2", javaScriptEnabled ? 14 : 18, 10);
      const old = await book(page, url, 0);
      await page.getByRole("link", { name: `Reschedule Head and shoulder massage — ${when(old)}` }).click();
      await expect(page.getByRole("heading", { name: "Reschedule your booking" })).toBeVisible();
      // Its own time is shown as where it is now, not as taken.
      await expect(page.getByRole("button", { name: `${old}, your booking now`, exact: true })).toBeDisabled();
      // The same grid as booking: parts of the day, the key, the calendar.
      await expect(page.getByRole("list", { name: "Key to the times" })).toContainText("Your booking now");
      await expect(page.locator("h3.part-of-day").first()).toHaveText(/^(Morning|Afternoon|Evening)$/);
      await page.screenshot({ path: info.outputPath("reschedule.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await scrollsSideways(page)).toBe(false);
      await page.screenshot({ path: info.outputPath("reschedule-phone.png"), fullPage: true });
      const target = moveTimes(page).last();
      const label = (await target.getAttribute("aria-label"))!.replace(/^Move to /, "");
      await target.click();
      await expect(page.getByRole("status")).toHaveText(/Rescheduled/);
      const upcoming = page.getByRole("heading", { level: 3 });
      await expect(upcoming).toHaveText([`Head and shoulder massage — ${when(label)}`]);
      expect(await scrollsSideways(page)).toBe(false);
      await page.screenshot({ path: info.outputPath("my-bookings-phone.png"), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
      // The old time is free again for anyone, the new one taken.
      await page.goto(url);
      await expect(page.getByRole("button", { name: old, exact: true })).toBeEnabled();
      await expect(page.getByRole("button", { name: `${label}, taken`, exact: true })).toBeDisabled();
      await context.close();
    });

    test(`two customers reschedule into the same time at once${where}: one moves, the other's booking is untouched`, async ({ browser }) => {
      const { a, b, pa, pb } = await twoCustomers(browser, { javaScriptEnabled });
      const url = await dayFrom(pa, 1, "service=1&resource=2", javaScriptEnabled ? 22 : 26, 12);
      const oldA = await book(pa, url, 0);
      const oldB = await book(pb, url, 4);
      await pa.getByRole("link", { name: /^Reschedule / }).click();
      await pb.getByRole("link", { name: /^Reschedule / }).click();
      const target = moveTimes(pa).last();
      const name = (await target.getAttribute("aria-label"))!;
      const buttonA = pa.getByRole("button", { name, exact: true });
      const buttonB = pb.getByRole("button", { name, exact: true });
      await Promise.all([expect(buttonA).toBeEnabled(), expect(buttonB).toBeEnabled()]);
      await Promise.all([buttonA.click(), buttonB.click()]);

      const moved = (p: Page) => p.getByRole("status").filter({ hasText: "Rescheduled" }).waitFor({ timeout: 10_000 }).then(() => p);
      const winner = await Promise.race([moved(pa), moved(pb)]);
      const loser = winner === pa ? pb : pa;
      const banner = loser.getByRole("alert").filter({ hasText: "just taken" });
      await expect(banner).toContainText("your booking has not changed");
      // The loser's booking is where it was.
      await loser.goto("/bookings");
      const loserOld = loser === pa ? oldA : oldB;
      await expect(loser.getByRole("heading", { level: 3 })).toHaveText([`Head and shoulder massage — ${when(loserOld)}`]);
      await expect(winner.getByRole("heading", { level: 3 })).toHaveText([`Head and shoulder massage — ${when(name.replace(/^Move to /, ""))}`]);
      await a.close();
      await b.close();
    });

    test("Cancel asks first; keeping the booking changes nothing, saying yes cancels it", async ({ browser }) => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      await newCustomer(page, "Cato");
      const url = await dayFrom(page, 1, "service=1&resource=1", javaScriptEnabled ? 30 : 34, 2);
      const label = await book(page, url, 0);
      const heading = `Head and shoulder massage — ${when(label)}`;
      const cancel = page.getByRole("link", { name: `Cancel ${heading}` });
      await cancel.click();
      // A dialog with JavaScript, a page of its own without.
      const ask = javaScriptEnabled ? page.getByRole("dialog") : page.getByRole("main");
      await expect(ask.getByRole("heading", { name: "Cancel this booking?" })).toBeVisible();
      await ask.getByRole(javaScriptEnabled ? "button" : "link", { name: "Keep it" }).click();
      await expect(page.getByRole("dialog")).toHaveCount(0);
      await expect(page).toHaveURL(/\/bookings(\?confirmed=\d+)?$/);
      await expect(page.getByRole("heading", { level: 3, name: heading })).toBeVisible();
      await expect(page.getByRole("heading", { name: "Cancelled" })).toHaveCount(0);

      await cancel.click();
      await ask.getByRole("button", { name: "Yes, cancel it" }).click();
      await expect(page.getByRole("status")).toHaveText(/Cancelled/);
      // Listed as cancelled, not as upcoming.
      await expect(page.getByRole("heading", { name: "Cancelled", level: 2 })).toBeVisible();
      await expect(page.getByRole("article", { name: heading })).toContainText("Status: cancelled");
      await expect(page.getByRole("link", { name: /^Cancel / })).toHaveCount(0);
      await page.goto(url);
      await expect(page.getByRole("button", { name: label, exact: true })).toBeEnabled();
      await context.close();
    });
  });
}

test("prices, length and address are shown before booking; the note and phone reach the venue", async ({ browser }, info) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await newCustomer(page, "Ivo");
  const url = await dayFrom(page, 1, "service=2&resource=3", 38, 1);
  await expect(page.getByText("4 Mill Lane, Bath")).toBeVisible();
  await expect(page.getByLabel("Treatment").locator("option:checked")).toHaveText("Full body massage (60 min, £75.00)");
  await expect(page.getByText(/^Full body massage: 60 minutes, £75\.00\. /)).toBeVisible();
  const label = (await freeTimes(page).first().getAttribute("aria-label"))!;
  await page.getByRole("button", { name: label, exact: true }).click();
  await page.waitForURL(/\/holds\/\d+$/);
  const id = page.url().match(/\/holds\/(\d+)$/)![1];
  const held = page.getByRole("group", { name: "Held for you" });
  await expect(held).toContainText("60 minutes · £75.00");
  await expect(held).toContainText("Harbour Spa, 4 Mill Lane, Bath");
  await page.getByLabel("A note for the venue").fill("Nut allergy, please no almond oil.");
  await page.getByLabel("Phone").fill("call me");
  await page.getByRole("button", { name: "Confirm booking" }).click();
  // The phone is refused next to its field; the hold stays.
  await expect(page.locator("#phone-error")).toHaveText(/Write a phone number/);
  await expect(page.getByLabel("Phone")).toHaveAttribute("aria-invalid", "true");
  await page.screenshot({ path: info.outputPath("hold-phone-error.png"), fullPage: true });
  await page.getByLabel("Phone").fill("+44 20 7946 0000");
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByRole("status")).toHaveText(/Booked/);
  await expect(page.getByText("Your note: Nut allergy, please no almond oil.")).toBeVisible();
  await expect(page.getByRole("article").first()).toContainText("£75.00");
  await page.screenshot({ path: info.outputPath("my-bookings-facts.png"), fullPage: true });

  const staff = await (await browser.newContext()).newPage();
  await logInStaff(staff);
  await staff.goto(`/admin/bookings/${id}`);
  await expect(staff.getByRole("link", { name: "+44 20 7946 0000" })).toHaveAttribute("href", "tel:+442079460000");
  await expect(staff.getByText("Nut allergy, please no almond oil.")).toBeVisible();
  await context.close();
  await staff.context().close();
});

for (const javaScriptEnabled of [true, false]) {
  test(`a visitor who picks a time creates an account and comes back to the same times (${onOff(javaScriptEnabled)})`, async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    await page.goto("/venues/1?service=3&resource=1");
    const day = (await offeredDays(page))[20];
    const url = `/venues/1?service=3&resource=1&date=${day}`;
    await page.goto(url);
    const first = freeTimes(page).first();
    await expect(first).toBeVisible();
    await first.click();
    const banner = page.getByRole("alert");
    await expect(banner).toContainText("to book a time");
    await banner.getByRole("link", { name: "create an account" }).click();
    await page.getByLabel("Your name").fill("Uma");
    await page.getByLabel("Email").fill(`uma-${Date.now()}-${javaScriptEnabled}@example.com`);
    await page.getByLabel("Password (at least 10 characters)").fill("slotkeeper-demo");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("navigation", { name: "Account" }).getByText("Uma")).toBeVisible();
    // Back at the grid for the same treatment, therapist and day, with no stale banner.
    await expect(page).toHaveURL(new RegExp(`/venues/1\\?service=3&resource=1&date=${day}`));
    await expect(page.getByLabel("Treatment").locator("option:checked")).toHaveText(/^Hot stone therapy/);
    await expect(page.getByLabel("Therapist").locator("option:checked")).toHaveText("Anna");
    await expect(page.getByRole("alert")).toHaveCount(0);
    await context.close();
  });
}
