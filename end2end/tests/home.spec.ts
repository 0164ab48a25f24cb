import { expect, test } from "@playwright/test";

test("the home page lists the venues and their resources", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Book a treatment or a table");
  const spa = page.getByRole("article", { name: "Harbour Spa" });
  await expect(spa.getByRole("listitem").filter({ hasText: "Chloe" })).toBeVisible();
  const restaurant = page.getByRole("article", { name: "Olive Table" });
  await expect(restaurant.getByText("Table 6 (seats 8)")).toBeVisible();
});

test("once the page has hydrated, the venue filter works", async ({ page }) => {
  await page.goto("/");
  const restaurants = page.getByRole("button", { name: "Restaurants" });
  // The click only takes effect once the wasm bundle has hydrated the page.
  await expect(async () => {
    await restaurants.click();
    await expect(restaurants).toHaveAttribute("aria-pressed", "true", { timeout: 500 });
  }).toPass();
  await expect(page.getByRole("article", { name: "Harbour Spa" })).toBeHidden();
  await expect(page.getByRole("article", { name: "Olive Table" })).toBeVisible();
  await page.getByRole("button", { name: "All venues" }).click();
  await expect(page.getByRole("article", { name: "Harbour Spa" })).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("every venue is listed", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("article", { name: "Harbour Spa" })).toBeVisible();
    await expect(page.getByRole("article", { name: "Olive Table" })).toBeVisible();
  });
});
