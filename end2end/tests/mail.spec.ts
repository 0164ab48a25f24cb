import { expect, test } from "@playwright/test";
import { book, dayFrom, mailTo, newCustomer, SECOND_URL, waitForMail } from "./helpers";

const where = SECOND_URL ? " (two app instances share the outbox)" : "";

test(`booking and cancelling each send one email through a real SMTP server${where}`, async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = await newCustomer(page, "Milo");
  const url = await dayFrom(page, 1, "service=1&resource=2", 22);
  const label = await book(page, url, 0);
  const when = label.replace(/, [^,]+$/, "");

  await waitForMail(email, "Booking confirmed");
  // Every instance's dispatcher has had several rounds: still one message.
  await page.waitForTimeout(1500);
  const confirmations = (await mailTo(email)).filter((m) => m.subject?.startsWith("Booking confirmed"));
  expect(confirmations).toHaveLength(1);
  const mail = confirmations[0];
  expect(mail.subject).toContain("Head and shoulder massage");
  expect(mail.subject).toContain(when);
  expect(mail.messageId).toMatch(/^<message-\d+\.booking-\d+@/);
  expect(mail.text).toContain(`When: ${when}`);
  expect(mail.text).toContain("free until");
  // Links lead to the app (to the instance that sent it, without a public address set).
  expect(mail.text).toMatch(/http:\/\/127\.0\.0\.1:\d+\/bookings\b/);
  if (!SECOND_URL) expect(mail.text).toContain(`${baseURL}/bookings`);
  expect(mail.html || "").toContain("<table");
  const ics = mail.attachments.find((a) => a.contentType === "text/calendar");
  expect(ics, "the calendar file is attached").toBeTruthy();
  const calendar = ics!.content.toString("utf8");
  expect(calendar).toContain("BEGIN:VEVENT");
  expect(calendar).toContain("BEGIN:VALARM");
  expect(calendar.match(/^PRODID:/gm)).toHaveLength(1);
  // Lines folded at 75 octets (the mail server keeps them with its own line ends).
  for (const line of calendar.split(/\r?\n/)) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);

  await page.getByRole("link", { name: /^Cancel / }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.getByRole("status")).toHaveText(/Cancelled/);
  const after = await waitForMail(email, "Booking cancelled");
  expect(after.filter((m) => m.subject?.startsWith("Booking cancelled"))).toHaveLength(1);
  const cancelled = after.find((m) => m.subject?.startsWith("Booking cancelled"))!;
  const drop = cancelled.attachments.find((a) => a.contentType === "text/calendar")!;
  expect(drop.content.toString("utf8")).toContain("METHOD:CANCEL");
  await context.close();
});
