import { expect, test, type Page } from "@playwright/test";
import { book, dayFrom, expectNoSeriousViolations, logInStaff, newCustomer, scrollsSideways } from "./helpers";

const onOff = (js: boolean) => `JavaScript ${js ? "on" : "off"}`;

/** The id of the booking a "Booked" page (/bookings?confirmed=ID) names. */
function confirmedId(page: Page) {
  return new URL(page.url()).searchParams.get("confirmed")!;
}

for (const javaScriptEnabled of [true, false]) {
  test(`staff move a booking with one click on a free time, and the day shows it once with its treatment (${onOff(javaScriptEnabled)})`, async ({ browser }, info) => {
    test.setTimeout(90_000);
    const [customerContext, staffContext] = await Promise.all([browser.newContext(), browser.newContext({ javaScriptEnabled })]);
    const [customer, staff] = await Promise.all([customerContext.newPage(), staffContext.newPage()]);
    await Promise.all([newCustomer(customer, "Mona"), logInStaff(staff)]);
    // Ben, head and shoulder massage, on a day of this test's own.
    const url = await dayFrom(customer, 1, "service=1&resource=2", javaScriptEnabled ? 6 : 10, 4);
    const date = new URL(url, "http://x").searchParams.get("date")!;
    await book(customer, url, 0);
    const id = confirmedId(customer);

    await staff.goto(`/admin/bookings/${id}`);
    const move = staff.getByRole("region", { name: "Move" });
    // Chloe does not do this treatment: not offered.
    const withWhom = move.getByLabel("With");
    await expect(withWhom.locator("option:checked")).toHaveText("Ben");
    await expect(withWhom.locator("option")).toHaveCount(3);
    await expect(withWhom.locator("option", { hasText: "Chloe" })).toHaveCount(0);
    await staff.screenshot({ path: info.outputPath("staff-booking-desktop.png"), fullPage: true });
    if (javaScriptEnabled) await expectNoSeriousViolations(staff, "the staff booking page");

    // Anna's free times that day, then one click.
    if (javaScriptEnabled) {
      await expect(async () => {
        await withWhom.selectOption({ label: "Anna" });
        await expect(staff).toHaveURL(/move_resource=1/, { timeout: 1_000 });
      }).toPass();
    } else {
      await withWhom.selectOption({ label: "Anna" });
      await move.getByRole("button", { name: "Show free times" }).click();
    }
    const target = move.getByRole("button", { name: /^Move to .*, Anna$/ }).nth(2);
    const label = (await target.getAttribute("aria-label"))!;
    await target.click();
    await expect(staff.getByRole("status")).toHaveText("Moved.");
    await expect(staff.getByRole("definition").filter({ hasText: "Anna" }).first()).toBeVisible();
    await expect(staff.getByText("Moved the booking")).toBeVisible();
    const when = label.replace(/^Move to /, "").replace(/, Anna$/, "");

    // The day view: one cell over the booking's time with the customer and treatment.
    await staff.goto(`/admin/venues/1/day?date=${date}`);
    const cell = staff.getByRole("cell", { name: /Mona .*Head and shoulder massage/ });
    await expect(cell.first()).toBeVisible();
    await expect(cell.first()).toContainText("Head and shoulder massage");
    await expect(staff.getByRole("table").getByText("↓")).toHaveCount(0);
    await staff.screenshot({ path: info.outputPath("staff-day-desktop.png"), fullPage: true });
    // On a phone: one block per booking, with its start and end.
    await staff.setViewportSize({ width: 390, height: 844 });
    await staff.reload();
    const agenda = staff.locator(".day-agenda").getByRole("link", { name: /^\d\d:\d\d–\d\d:\d\d Mona — Head and shoulder massage$/ });
    await expect(agenda.first()).toBeVisible();
    expect(await scrollsSideways(staff)).toBe(false);
    await staff.screenshot({ path: info.outputPath("staff-day-phone.png"), fullPage: true });

    // The customer sees the new time.
    await customer.goto("/bookings");
    await expect(customer.getByText(when).first()).toBeVisible();
    await Promise.all([customerContext.close(), staffContext.close()]);
  });
}

test("set-up saves a resource's week in one form and shows lengths of time with their unit", async ({ page }, info) => {
  await logInStaff(page);
  await page.goto("/admin/venues/2/setup");
  const settings = page.getByRole("form", { name: "Venue settings" });
  await expect(settings.getByLabel("Free cancellation until, before the start", { exact: true })).toBeVisible();
  await expect(settings.getByRole("combobox", { name: /Free cancellation until, before the start: unit/ }).locator("option:checked")).toHaveText(/hours|days|minutes/);
  await page.screenshot({ path: info.outputPath("setup-desktop.png"), fullPage: true });
  // The largest table's week: Mondays close at 22:00 instead of 23:00.
  await page.getByText("Weekly hours of Table 6").click();
  const week = page.getByRole("form", { name: "Weekly hours of Table 6" });
  await week.getByLabel("Monday closes").fill("22:00");
  await expect(week.getByRole("button")).toHaveCount(1);
  await week.getByRole("button", { name: "Save the week of Table 6" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await page.reload();
  await page.getByText("Weekly hours of Table 6").click();
  await expect(page.getByRole("form", { name: "Weekly hours of Table 6" }).getByLabel("Monday closes")).toHaveValue("22:00");
  await expect(page.getByRole("form", { name: "Weekly hours of Table 6" }).getByLabel("Tuesday closes")).toHaveValue("23:00");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: info.outputPath("setup-phone.png"), fullPage: true });
});

test("set-up saves every treatment with one Save, and a refused row keeps what was typed", async ({ page }, info) => {
  await logInStaff(page);
  await page.goto("/admin/venues/1/setup");
  const services = page.getByRole("form", { name: "Services" });
  await expect(services.getByRole("button")).toHaveCount(1);
  const stone = services.getByRole("group", { name: "Hot stone therapy" });
  const head = services.getByRole("group", { name: "Head and shoulder massage" });
  await stone.getByLabel("Price").fill("96.00");
  await head.getByLabel("Length (minutes)").fill("2");
  await services.getByRole("button", { name: "Save services" }).click();
  // Refused next to the field; the other row's typing is still there, and nothing saved.
  await expect(head.getByText("A treatment's length must be from 5 to 720.")).toBeVisible();
  await expect(stone.getByLabel("Price")).toHaveValue("96.00");
  await expect(head.getByLabel("Length (minutes)")).toHaveValue("2");
  await page.screenshot({ path: info.outputPath("setup-services-refused.png"), fullPage: true });
  await head.getByLabel("Length (minutes)").fill("30");
  await services.getByRole("button", { name: "Save services" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await page.reload();
  await expect(page.getByRole("group", { name: "Hot stone therapy" }).getByLabel("Price")).toHaveValue("96.00");
  await expect(page.getByRole("group", { name: "Head and shoulder massage" }).getByLabel("Length (minutes)")).toHaveValue("30");
});
