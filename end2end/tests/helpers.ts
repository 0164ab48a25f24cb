import AxeBuilder from "@axe-core/playwright";
import { expect, type Browser, type Page } from "@playwright/test";
import { simpleParser, type ParsedMail } from "mailparser";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export const PASSWORD = "slotkeeper-demo";

/** Logs in through the log-in page; waits until the app says who is signed in. */
export async function logIn(page: Page, email: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "My bookings" })).toBeVisible();
}

/** A new customer account, registered through the page, signed in. */
export async function newCustomer(page: Page, name: string) {
  const email = `${name.toLowerCase()}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await page.goto("/register");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password (at least 10 characters)").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("navigation", { name: "Account" }).getByText(name)).toBeVisible();
  return email;
}

/**
 * The second app instance, when the suite runs against two (the Postgres
 * pass of scripts/test); otherwise the one app.
 */
export const SECOND_URL = process.env.SLOTKEEPER_E2E_URL_B;

/**
 * Two browsers with their own contexts (cookies), each signed in as a new
 * customer; the second on the second app instance when there is one.
 */
export async function twoCustomers(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
  const [a, b] = await Promise.all([
    browser.newContext(options),
    browser.newContext(SECOND_URL ? { ...options, baseURL: SECOND_URL } : options),
  ]);
  const [pa, pb] = await Promise.all([a.newPage(), b.newPage()]);
  await Promise.all([newCustomer(pa, "Ada"), newCustomer(pb, "Bea")]);
  return { a, b, pa, pb };
}

/**
 * Opens the grid for a venue with the given choices on the first listed day
 * that still has `atLeast` free times, and returns that day's URL.
 */
export async function openFirstDayWithTimes(page: Page, venue: number, query: string, atLeast = 1): Promise<string> {
  await page.goto(`/venues/${venue}?${query}`);
  const days = await offeredDays(page);
  for (const day of days.slice(1)) {
    const url = `/venues/${venue}?${query}&date=${day}`;
    await page.goto(url);
    if ((await freeTimes(page).count()) >= atLeast) return url;
  }
  throw new Error("no day with a free time");
}

/**
 * Every day the venue page on screen is open for booking, from today to the
 * end of its advance window ("2026-06-02"), closed days included: the range
 * its day picker says it covers.
 */
export async function offeredDays(page: Page): Promise<string[]> {
  const picker = page.locator(".day-picker");
  const first = (await picker.getAttribute("data-first-day"))!;
  const last = (await picker.getAttribute("data-last-day"))!;
  const days: string[] = [];
  for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

/** The free start times of the grid on the page. */
export function freeTimes(page: Page) {
  return page.getByRole("region", { name: "Start times" }).getByRole("button", { disabled: false });
}

/** Logs in as staff (or the admin) of the demo venues. */
export async function logInStaff(page: Page, email = "staff@slotkeeper.test") {
  await logIn(page, email);
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Admin" })).toBeVisible();
}

/** Whether the page scrolls sideways (it should not, on any screen). */
export async function scrollsSideways(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** The last day a venue's booking page offers that still has free times. */
export async function lastDayWithTimes(page: Page, venue: number, query: string) {
  await page.goto(`/venues/${venue}?${query}`);
  const days = await offeredDays(page);
  for (const day of days.reverse()) {
    await page.goto(`/venues/${venue}?${query}&date=${day}`);
    if ((await freeTimes(page).count()) > 0) return day;
  }
  throw new Error("no day with a free time");
}

/**
 * The grid URL of the first day from the `from`-th offered day on that has
 * at least `atLeast` free times: tests that book take days of their own, so
 * that tests running at once do not take each other's times.
 */
export async function dayFrom(page: Page, venue: number, query: string, from: number, atLeast = 1): Promise<string> {
  await page.goto(`/venues/${venue}?${query}`);
  const days = await offeredDays(page);
  for (const day of days.slice(from)) {
    const url = `/venues/${venue}?${query}&date=${day}`;
    await page.goto(url);
    if ((await freeTimes(page).count()) >= atLeast) return url;
  }
  throw new Error(`no day from the ${from}th with ${atLeast} free times`);
}

/** Confirms the hold the page shows and waits for "Booked". */
export async function confirmHold(page: Page) {
  await expect(page.getByRole("heading", { name: "Confirm your booking" })).toBeVisible();
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByRole("status")).toHaveText(/Booked/);
}

/** Holds and confirms the `index`-th free time of the grid at `url`; returns its label. */
export async function book(page: Page, url: string, index: number): Promise<string> {
  await page.goto(url);
  const label = (await freeTimes(page).nth(index).getAttribute("aria-label"))!;
  await page.getByRole("button", { name: label, exact: true }).click();
  await confirmHold(page);
  return label;
}

/**
 * The axe scan of the page as it is now: WCAG 2.1 A and AA rules, and
 * only the violations people are most hurt by (serious and critical).
 */
export async function expectNoSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}

/**
 * The Maildir the real SMTP server of scripts/test (aiosmtpd) keeps what
 * the app sends in. The suite needs it: without, it says so and fails.
 */
const MAILDIR = process.env.SLOTKEEPER_E2E_MAILDIR;

/** Every message delivered to `to` so far, parsed. */
export async function mailTo(to: string): Promise<ParsedMail[]> {
  if (!MAILDIR) throw new Error("set SLOTKEEPER_E2E_MAILDIR to the Maildir of the SMTP server the app sends to (scripts/test does)");
  const found: ParsedMail[] = [];
  for (const folder of ["new", "cur"]) {
    let names: string[] = [];
    try {
      names = await readdir(join(MAILDIR, folder));
    } catch {
      continue;
    }
    for (const name of names) {
      const raw = await readFile(join(MAILDIR, folder, name));
      const mail = await simpleParser(raw);
      const addresses = [mail.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address));
      if (addresses.includes(to)) found.push(mail);
    }
  }
  return found;
}

/** Waits until `to` has a message whose subject starts with `subject`; returns them all. */
export async function waitForMail(to: string, subject: string): Promise<ParsedMail[]> {
  let all: ParsedMail[] = [];
  await expect
    .poll(
      async () => {
        all = await mailTo(to);
        return all.filter((m) => m.subject?.startsWith(subject)).length;
      },
      { timeout: 20_000, message: `a message "${subject}…" to ${to}` },
    )
    .toBeGreaterThan(0);
  return all;
}
