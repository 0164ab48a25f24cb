import { expect, test } from "@playwright/test";
import { freeTimes, openFirstDayWithTimes, SECOND_URL, twoCustomers } from "./helpers";

const where = SECOND_URL ? ", each on its own app instance" : "";

/** What is raced for: the spa's Anna, or the restaurant's Table 3. */
const targets = [
  { what: "therapist", venue: 1, query: "service=1&resource=1", who: "Anna" },
  { what: "restaurant table", venue: 2, query: "party=2&resource=8", who: "Table 3" },
];

for (const javaScriptEnabled of [true, false]) {
  for (const target of targets) {
  test.describe(`JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
    test(`two customers choose the same ${target.what} and time at once${where}: one holds it, the other picks an alternative`, async ({ browser }, info) => {
      const { a, b, pa, pb } = await twoCustomers(browser, { javaScriptEnabled });
      const url = await openFirstDayWithTimes(pa, target.venue, target.query, 3);
      await pb.goto(url);
      // The same start, late in the list so that other tests' choices do not collide.
      const slotsA = freeTimes(pa);
      const name = (await slotsA.nth((await slotsA.count()) - 1 - (javaScriptEnabled ? 0 : 2)).getAttribute("aria-label"))!;
      expect(name).toMatch(new RegExp(`^\\w+day \\d+ \\w+, \\d\\d:\\d\\d, ${target.who}$`));
      const buttonA = pa.getByRole("button", { name, exact: true });
      const buttonB = pb.getByRole("button", { name, exact: true });
      await Promise.all([expect(buttonA).toBeEnabled(), expect(buttonB).toBeEnabled()]);
      await Promise.all([buttonA.click(), buttonB.click()]);

      const held = (p: typeof pa) => p.waitForURL(/\/holds\/\d+$/, { timeout: 10_000 }).then(() => p);
      const banner = (p: typeof pa) => p.getByRole("alert").filter({ hasText: "just taken" }).waitFor({ timeout: 10_000 }).then(() => p);
      const winner = await Promise.race([held(pa), held(pb)]);
      const loser = winner === pa ? pb : pa;
      await banner(loser);
      await expect(loser).not.toHaveURL(/\/holds\//);
      if (javaScriptEnabled) {
        await expect(loser.getByRole("alert")).toBeFocused();
      }
      await loser.screenshot({ path: info.outputPath("conflict-banner.png"), fullPage: true });

      // The winner sees what is held, and confirms.
      await expect(winner.getByRole("heading", { name: "Confirm your booking" })).toBeVisible();
      await expect(winner.getByText(target.who)).toBeVisible();
      await winner.screenshot({ path: info.outputPath("confirm-page.png"), fullPage: true });
      await winner.getByRole("button", { name: "Confirm booking" }).click();
      await expect(winner.getByRole("status")).toHaveText(/Booked/);

      // The loser takes the first alternative offered, and books it.
      const alternative = loser.getByRole("alert").getByRole("button").first();
      await alternative.click();
      await loser.waitForURL(/\/holds\/\d+$/);
      await loser.getByRole("button", { name: "Confirm booking" }).click();
      await expect(loser.getByRole("status")).toHaveText(/Booked/);
      await loser.screenshot({ path: info.outputPath("my-bookings.png"), fullPage: true });
      await expect(loser.getByRole("heading", { level: 3 })).toHaveCount(1);

      // The contested time now shows as taken for anyone.
      await winner.goto(url);
      await expect(winner.getByRole("button", { name: `${name}, taken`, exact: true })).toBeDisabled();
      await a.close();
      await b.close();
    });
  });
  }
}

test("a page that needs a log-in sends the visitor there and back", async ({ page }) => {
  await page.goto("/bookings");
  await expect(page).toHaveURL(/\/login\?next=\/bookings$/);
  await page.getByLabel("Email").fill("alice@slotkeeper.test");
  await page.getByLabel("Password").fill("slotkeeper-demo");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/bookings$/);
  await expect(page.getByRole("heading", { name: "My bookings" })).toBeVisible();
});
