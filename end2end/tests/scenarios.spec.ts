import { expect, test, type Page } from "@playwright/test";
import { confirmHold, dayFrom, freeTimes, lastDayWithTimes, logIn, logInStaff, newCustomer, openFirstDayWithTimes, scrollsSideways } from "./helpers";

test("staff close a day in the admin page: customers no longer see its times, and a customer cannot open the admin page", async ({ browser }, info) => {
  const [staffContext, customerContext] = await Promise.all([browser.newContext(), browser.newContext()]);
  const [staff, customer] = await Promise.all([staffContext.newPage(), customerContext.newPage()]);
  await Promise.all([logInStaff(staff), newCustomer(customer, "Cleo")]);
  const day = await lastDayWithTimes(customer, 1, "service=1");
  await customer.goto(`/venues/1?service=1&date=${day}`);
  await expect(freeTimes(customer).first()).toBeVisible();

  // From the admin home to the venue's day, by its date.
  await staff.goto("/admin");
  await staff.getByRole("listitem").filter({ hasText: "Harbour Spa" }).getByRole("link", { name: "Today’s schedule" }).click();
  await expect(staff.getByRole("table")).toBeVisible();
  await staff.getByLabel("Go to").fill(day);
  await staff.getByRole("button", { name: "Show" }).click();
  await expect(staff).toHaveURL(new RegExp(`date=${day}`));
  const close = staff.getByRole("form", { name: "Close or block time" });
  await close.getByLabel("What").selectOption({ label: "The whole venue" });
  await close.getByLabel("Reason").fill("Staff training");
  await close.getByRole("button", { name: "Close" }).click();
  await expect(staff.getByRole("status")).toHaveText(/Customers no longer see these times/);
  await expect(staff.getByRole("cell", { name: "closed: Staff training" }).first()).toBeVisible();
  await staff.screenshot({ path: info.outputPath("admin-day-view.png"), fullPage: true });

  await customer.reload();
  await expect(customer.getByText(/^Closed on \w+ \d+ \w+\. Pick another day/)).toBeVisible();
  await expect(customer.getByText("Closed 09:00 to 18:00")).toBeVisible();
  await expect(freeTimes(customer)).toHaveCount(0);

  // The admin page refuses a customer, even by its address.
  const response = await customer.goto(`/admin/venues/1/day?date=${day}`);
  expect(response?.status()).toBe(403);
  await expect(customer.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(customer.getByRole("table")).toHaveCount(0);
  await Promise.all([staffContext.close(), customerContext.close()]);
});

test("a hold that expires frees its time for another customer", async ({ browser }) => {
  test.setTimeout(180_000);
  const [staffContext, aContext, bContext] = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  const [staff, pa, pb] = await Promise.all([staffContext.newPage(), aContext.newPage(), bContext.newPage()]);
  await Promise.all([logInStaff(staff), newCustomer(pa, "Hana"), newCustomer(pb, "Ivo")]);

  // The restaurant holds for one minute from now on.
  await staff.goto("/admin/venues/2/setup");
  const settings = staff.getByRole("form", { name: "Venue settings" });
  await settings.getByLabel("Hold minutes").fill("1");
  await settings.getByRole("button", { name: "Save settings" }).click();
  await expect(staff.getByRole("status")).toHaveText("Saved.");

  // Olive Table (venue 2), a table for 2 at Table 2 (resource 7).
  const url = await openFirstDayWithTimes(pa, 2, "party=2&resource=7");
  const times = freeTimes(pa);
  const name = (await times.nth(Math.floor((await times.count()) / 2)).getAttribute("aria-label"))!;
  await pa.getByRole("button", { name, exact: true }).click();
  await expect(pa.getByRole("heading", { name: "Confirm your booking" })).toBeVisible();

  await pb.goto(url);
  await expect(pb.getByRole("button", { name: `${name}, taken`, exact: true })).toBeDisabled();
  // No sleeping: look again until the hold has run out (a minute).
  await expect(async () => {
    await pb.reload();
    await expect(pb.getByRole("button", { name, exact: true })).toBeEnabled({ timeout: 1_000 });
  }).toPass({ timeout: 120_000, intervals: [5_000] });
  await pb.getByRole("button", { name, exact: true }).click();
  await confirmHold(pb);

  // The first customer's page has seen the hold run out: no Confirm that
  // could only fail, but "Hold it again" (too late: the other customer has
  // it now) and the way back to the times.
  await expect(pa.getByRole("heading", { name: "Your hold has lapsed" })).toBeVisible();
  await expect(pa.getByRole("button", { name: "Confirm booking" })).toHaveCount(0);
  await expect(pa.getByRole("link", { name: "Choose another time" })).toHaveAttribute("href", /\/venues\/2\?party=2&date=/);
  await pa.getByRole("button", { name: "Hold it again" }).click();
  // Table 2 is the other customer's now: the same time at another table for
  // two is held instead, or, when none is free, the page says it is taken.
  const heldAgain = pa.getByRole("heading", { name: "Confirm your booking" });
  await expect(heldAgain.or(pa.getByRole("alert"))).toBeVisible();
  if (await heldAgain.isVisible()) {
    await expect(pa.getByRole("group", { name: "Held for you" })).not.toContainText("Table 2");
  } else {
    await expect(pa.getByRole("alert")).toHaveText(/taken/);
  }
  await Promise.all([staffContext.close(), aContext.close(), bContext.close()]);
});

test("keyboard only: tab to a time, Enter, confirm; a taken time's banner is announced and focused", async ({ browser }) => {
  const [aContext, bContext] = await Promise.all([browser.newContext(), browser.newContext()]);
  const [pa, pb] = await Promise.all([aContext.newPage(), bContext.newPage()]);
  await Promise.all([newCustomer(pa, "Kai"), newCustomer(pb, "Lea")]);
  // Spa, head and shoulder massage with Ben (resource 2).
  const url = await openFirstDayWithTimes(pa, 1, "service=1&resource=2");
  await pb.goto(url);
  const times = freeTimes(pa);
  const name = (await times.nth(Math.min(1, (await times.count()) - 1)).getAttribute("aria-label"))!;

  /** Presses Tab until the button named `name` has the focus. */
  const tabTo = async (page: Page, label: string) => {
    for (let i = 0; i < 300; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "");
      if (focused === label) return;
    }
    throw new Error(`Tab never reached ${label}`);
  };
  await tabTo(pa, name);
  await pa.keyboard.press("Enter");
  await expect(pa.getByRole("heading", { name: "Confirm your booking" })).toBeVisible();
  for (let i = 0; i < 100; i++) {
    await pa.keyboard.press("Tab");
    if ((await pa.evaluate(() => document.activeElement?.textContent)) === "Confirm booking") break;
  }
  await expect(pa.getByRole("button", { name: "Confirm booking" })).toBeFocused();
  await pa.keyboard.press("Enter");
  await expect(pa.getByRole("status")).toHaveText(/Booked/);

  // The second customer's page still offers the time; Enter finds it taken.
  await tabTo(pb, name);
  await pb.keyboard.press("Enter");
  const banner = pb.getByRole("alert");
  await expect(banner).toContainText("That time was just taken");
  await expect(banner).toBeFocused();
  await Promise.all([aContext.close(), bContext.close()]);
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the slot grid and the confirm page fit the screen without scrolling sideways", async ({ page }, info) => {
    await newCustomer(page, "Mo");
    const url = await openFirstDayWithTimes(page, 1, "service=1&resource=1");
    await page.goto(url);
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: info.outputPath("phone-slot-grid.png"), fullPage: true });
    const times = freeTimes(page);
    await times.nth(Math.floor((await times.count()) / 3)).tap();
    await expect(page.getByRole("heading", { name: "Confirm your booking" })).toBeVisible();
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: info.outputPath("phone-confirm-page.png"), fullPage: true });
    await page.getByRole("button", { name: "Confirm booking" }).tap();
    await expect(page.getByRole("status")).toHaveText(/Booked/);
    expect(await scrollsSideways(page)).toBe(false);
  });
});

test("cancelling in My bookings frees the time for others at once", async ({ browser }) => {
  const [aContext, bContext] = await Promise.all([browser.newContext(), browser.newContext()]);
  const [pa, pb] = await Promise.all([aContext.newPage(), bContext.newPage()]);
  await Promise.all([newCustomer(pa, "Nia"), newCustomer(pb, "Oto")]);
  // Spa, full body massage (service 2) with Chloe (resource 3), on the
  // last day offered: well before its cancellation window closes.
  const day = await lastDayWithTimes(pa, 1, "service=2&resource=3");
  const url = `/venues/1?service=2&resource=3&date=${day}`;
  await pa.goto(url);
  const times = freeTimes(pa);
  const name = (await times.first().getAttribute("aria-label"))!;
  await pa.getByRole("button", { name, exact: true }).click();
  await confirmHold(pa);
  await pb.goto(url);
  await expect(pb.getByRole("button", { name: `${name}, taken`, exact: true })).toBeDisabled();

  await pa.getByRole("link", { name: /^Cancel / }).click();
  await pa.getByRole("dialog").getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(pa.getByRole("status")).toHaveText(/Cancelled/);
  await pb.reload();
  await expect(pb.getByRole("button", { name, exact: true })).toBeEnabled();
  await pb.getByRole("button", { name, exact: true }).click();
  await confirmHold(pb);
  await Promise.all([aContext.close(), bContext.close()]);
});

test("the admin logs in and sees the statistics of every venue", async ({ page }) => {
  await logIn(page, "admin@slotkeeper.test");
  await page.goto("/admin/stats");
  await expect(page.getByRole("table", { name: "Totals" })).toBeVisible();
});

test("with JavaScript the times follow each choice at once, and only those who do the treatment are offered", async ({ page }) => {
  // A day on which Chloe has free times for a full body massage.
  const day = new URL(await dayFrom(page, 1, "service=2&resource=3", 42), "http://x").searchParams.get("date");
  await page.goto(`/venues/1?service=1&date=${day}`);
  const treatment = page.getByLabel("Treatment");
  const therapist = page.getByLabel("Therapist");
  // Chloe does not do the head and shoulder massage.
  await expect(therapist.locator("option", { hasText: "Chloe" })).toHaveCount(0);
  // The choice only takes effect once the wasm bundle has hydrated the page.
  await expect(async () => {
    await treatment.selectOption("1");
    await treatment.selectOption("2");
    await expect(page).toHaveURL(/service=2/, { timeout: 1_000 });
  }).toPass();
  await expect(therapist.locator("option", { hasText: "Chloe" })).toHaveCount(1);
  await therapist.selectOption({ label: "Chloe" });
  await expect(page).toHaveURL(/resource=3/);
  // No "Show times" pressed: the grid is Chloe's, and so is what a time holds.
  const first = freeTimes(page).first();
  await expect(first).toHaveAttribute("aria-label", /Chloe$/);
  // Holding a time holds what the grid showed, not what it showed before.
  await newCustomer(page, "Sol");
  await page.goto(`/venues/1?service=1&date=${day}`);
  await expect(async () => {
    await treatment.selectOption("1");
    await treatment.selectOption("2");
    await expect(page).toHaveURL(/service=2/, { timeout: 1_000 });
  }).toPass();
  await therapist.selectOption({ label: "Chloe" });
  await expect(page).toHaveURL(/resource=3/);
  await expect(freeTimes(page).first()).toHaveAttribute("aria-label", /Chloe$/);
  await freeTimes(page).first().click();
  await page.waitForURL(/\/holds\/\d+$/);
  const held = page.getByRole("group", { name: "Held for you" });
  await expect(held).toContainText("Full body massage");
  await expect(held).toContainText("with Chloe");
});
