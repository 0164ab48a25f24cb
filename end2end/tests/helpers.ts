import { expect, type Browser, type Page } from "@playwright/test";

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

/** Two browsers with their own contexts (cookies), each signed in as a new customer. */
export async function twoCustomers(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
  const [a, b] = await Promise.all([browser.newContext(options), browser.newContext(options)]);
  const [pa, pb] = await Promise.all([a.newPage(), b.newPage()]);
  await Promise.all([newCustomer(pa, "Ada"), newCustomer(pb, "Bea")]);
  return { a, b, pa, pb };
}

/**
 * Opens the grid for a venue with the given choices on the first listed day
 * that still has a free time, and returns that day's URL.
 */
export async function openFirstDayWithTimes(page: Page, venue: number, query: string): Promise<string> {
  await page.goto(`/venues/${venue}?${query}`);
  const days = await page.getByLabel("Day").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  for (const day of days.slice(1)) {
    const url = `/venues/${venue}?${query}&date=${day}`;
    await page.goto(url);
    const free = page.getByRole("list").getByRole("button", { disabled: false });
    if ((await free.count()) > 0) return url;
  }
  throw new Error("no day with a free time");
}
