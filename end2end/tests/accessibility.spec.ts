import { expect, test } from "@playwright/test";
import { dayFrom, expectNoSeriousViolations, freeTimes, logInStaff, newCustomer } from "./helpers";

test("accessibility: the home page", async ({ page }) => {
  await page.goto("/");
  await expectNoSeriousViolations(page, "the home page");
});

test("accessibility: the log-in page", async ({ page }) => {
  await page.goto("/login");
  await expectNoSeriousViolations(page, "the log-in page");
});

test("accessibility: a venue's booking page, and its conflict banner", async ({ page }) => {
  await page.goto("/venues/1");
  await expectNoSeriousViolations(page, "the spa's booking page");
  await page.goto("/venues/2");
  await expectNoSeriousViolations(page, "the restaurant's booking page");
  // The banner a visitor gets on choosing a time.
  await freeTimes(page).first().click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expectNoSeriousViolations(page, "the log-in banner");
});

test("accessibility: the hold page, My bookings, the cancel dialog and the reschedule page", async ({ page }) => {
  await newCustomer(page, "Ally");
  const url = await dayFrom(page, 1, "service=1&resource=2", 46);
  await page.goto(url);
  await freeTimes(page).first().click();
  await page.waitForURL(/\/holds\/\d+$/);
  await expectNoSeriousViolations(page, "the hold page");
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByRole("status")).toHaveText(/Booked/);
  await expectNoSeriousViolations(page, "My bookings");
  await page.getByRole("link", { name: /^Cancel / }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await expectNoSeriousViolations(page, "the cancel dialog");
  await page.getByRole("dialog").getByRole("button", { name: "Keep it" }).click();
  await page.getByRole("link", { name: /^Reschedule / }).click();
  await expect(page.getByRole("heading", { name: "Reschedule your booking" })).toBeVisible();
  await expectNoSeriousViolations(page, "the reschedule page");
});

test("accessibility: the staff day view and set-up", async ({ page }) => {
  await logInStaff(page);
  await page.goto("/admin/venues/1/day");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expectNoSeriousViolations(page, "the staff day view");
  await page.goto("/admin/venues/1/setup");
  await expectNoSeriousViolations(page, "the set-up page");
});
